"""REPORTs the WSGI front answers from the store: the same answer Radicale gives (through the
plugin) for every form it takes, Radicale's answer for every form it leaves, and no way past
Radicale's auth and rights.

The reference is Radicale itself: the same request handed to ``radicale.Application`` directly
(in process, bypassing the front), compared response by response after parsing.
"""

from __future__ import annotations

import gzip
import io
import socket
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import replace
from typing import Any

import pytest

from bridge.caldav import start_caldav
from bridge.errors import StoreError
from tests.caldav.conftest import (
    PASSWORD,
    SERVICE,
    Server,
    auth,
    record,
    sync_report,
)

DAV = "{DAV:}"
CAL = "{urn:ietf:params:xml:ns:caldav}"
OWN = "/chris/ipoint/"
GRANTED = "/boss/ipoint-chris/"


def query(props: str, filter_: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        f"<D:prop>{props}</D:prop>{filter_}</C:calendar-query>"
    )


def vevent_range(start: str | None, end: str | None) -> str:
    attrs = (f' start="{start}"' if start else "") + (f' end="{end}"' if end else "")
    return (
        '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
        f"<C:time-range{attrs}/></C:comp-filter></C:comp-filter></C:filter>"
    )


def multiget(props: str, *hrefs: str) -> str:
    links = "".join(f"<D:href>{h}</D:href>" for h in hrefs)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        f"<D:prop>{props}</D:prop>{links}</C:calendar-multiget>"
    )


def radicale(server: Server, path: str, body: str, login: str = "chris") -> tuple[int, bytes]:
    """The answer of Radicale itself (with the plugin), without the front."""
    data = body.encode()
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "REPORT",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/xml; charset=utf-8",
        "CONTENT_LENGTH": str(len(data)),
        "HTTP_DEPTH": "1",
        "HTTP_AUTHORIZATION": auth(login)["Authorization"],
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "0",
        "SERVER_PROTOCOL": "HTTP/1.0",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(data),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
    }
    seen: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
        seen["status"] = status
        return lambda chunk: None

    answer = b"".join(server.handle._application(environ, start_response))
    return int(seen["status"].split()[0]), answer


def front(server: Server, path: str, body: str, login: str = "chris") -> tuple[int, bytes]:
    """The answer over HTTP, through the front (gzip asked, as clients do)."""
    answer = server.request("REPORT", path, login, body, {"Depth": "1", "Accept-Encoding": "gzip"})
    data = answer.body
    if answer.headers.get("Content-Encoding") == "gzip":
        data = gzip.decompress(data)
    return answer.status, data


def shape(body: bytes) -> tuple[str | None, dict[str, Any]]:
    """(sync-token, href -> 404 or {property: text}) of a multistatus; order left out."""
    root = ET.fromstring(body)
    assert root.tag == DAV + "multistatus", body[:200]
    responses: dict[str, Any] = {}
    for response in root.findall(DAV + "response"):
        href = response.findtext(DAV + "href")
        assert href is not None and href not in responses
        status = response.findtext(DAV + "status")
        if status is not None:
            responses[href] = status
            continue
        props: dict[str, str | None] = {}
        for propstat in response.findall(DAV + "propstat"):
            code = propstat.findtext(DAV + "status")
            prop = propstat.find(DAV + "prop")
            assert prop is not None
            for element in prop:
                props[f"{code} {element.tag}"] = element.text
        responses[href] = props
    return root.findtext(DAV + "sync-token"), responses


@pytest.fixture(scope="module")
def calendar(server: Server) -> Server:
    server.apply(
        record("plain"),
        record("amp", title="Fix <AV> & lights", customer="Smith & Sons"),
        record("WO:7~1", start="2026-12-02T08:00", end="2026-12-02T09:30"),
        record("allday", start="2026-12-03", end="2026-12-05"),
        record(
            "weekly",
            start="2026-10-20T09:00",
            end="2026-10-20T10:00",
            rrule="FREQ=WEEKLY;COUNT=8",
            exdates=["2026-11-03T09:00"],
        ),
        record("dst", start="2026-11-01T01:30", end="2026-11-01T03:00"),
        record("open", start="2027-03-14T01:00", end="2027-03-14T04:00", rrule="FREQ=DAILY"),
        record("job@site+1", start="2026-12-04T13:00", end="2026-12-04T14:00"),
        record("dana-job", user="dana"),
    )
    return server


def answered(server: Server) -> int:
    return int(server.handle._server.get_app().answered_from_store)


FORMS = {
    "week with data": query(
        "<D:getetag/><C:calendar-data/>", vevent_range("20261130T060000Z", "20261207T060000Z")
    ),
    "DST day": query("<D:getetag/>", vevent_range("20261101T050000Z", "20261102T060000Z")),
    "series instance skipped by EXDATE": query(
        "<D:getetag/>", vevent_range("20261103T140000Z", "20261103T160000Z")
    ),
    "open start": query("<D:getetag/>", vevent_range(None, "20261101T000000Z")),
    "open end, content type": query(
        "<D:getcontenttype/><D:getetag/>", vevent_range("20270315T000000Z", None)
    ),
    "no filter": query("<D:getetag/><C:calendar-data/>"),
    "VCALENDAR only": query(
        "<D:getetag/>", '<C:filter><C:comp-filter name="VCALENDAR"/></C:filter>'
    ),
    "initial sync": sync_report("", "<getetag/>"),
    "initial sync with data": sync_report(
        "", '<getetag/><C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav"/>'
    ),
    "multiget": multiget(
        "<D:getetag/><C:calendar-data/>",
        OWN + "plain.ics",
        OWN + "~V086N34x.ics",
        OWN + "job%40site%2B1.ics",
        OWN + "missing.ics",
        OWN + "not-an-item",
    ),
}


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("path", [OWN, GRANTED])
def test_answers_equal_radicales(calendar: Server, form: str, path: str) -> None:
    body = FORMS[form]
    if path == GRANTED:
        body = body.replace(OWN, GRANTED)
    login = "boss" if path == GRANTED else "chris"
    before = answered(calendar)
    status, fast = front(calendar, path, body, login)
    assert answered(calendar) == before + 1, "the front did not answer this form"
    ref_status, reference = radicale(calendar, path, body, login)
    assert (status, ref_status) == (207, 207), (fast[:300], reference[:300])
    assert shape(fast) == shape(reference)
    # Only the EXDATE case is empty (its one candidate is the skipped instance).
    assert bool(shape(fast)[1]) == (form != "series instance skipped by EXDATE")


def test_escaping_and_names_survive(calendar: Server) -> None:
    _, body = front(calendar, OWN, FORMS["week with data"])
    _, responses = shape(body)
    amp = responses[OWN + "amp.ics"][f"HTTP/1.1 200 OK {CAL}calendar-data"]
    assert "SUMMARY:Fix <AV> & lights" in amp
    assert OWN + "~V086N34x.ics" in responses  # "WO:7~1", encoded in the path


def test_sync_after_update_and_delete_equals_radicales(calendar: Server) -> None:
    token, _ = shape(front(calendar, OWN, sync_report())[1])
    assert token
    calendar.apply(record("plain", title="Moved"), deletes=("allday",))
    body = sync_report(token, "<getetag/><getcontenttype/>")
    status, fast = front(calendar, OWN, body)
    _, reference = radicale(calendar, OWN, body)
    assert status == 207
    assert shape(fast) == shape(reference)
    new_token, responses = shape(fast)
    assert new_token != token
    assert set(responses) == {OWN + "plain.ics", OWN + "allday.ics"}
    assert responses[OWN + "allday.ics"] == "HTTP/1.1 404 Not Found"
    # Nothing changed since: an empty answer with the same token.
    again_token, again = shape(front(calendar, OWN, sync_report(new_token or ""))[1])
    assert (again_token, again) == (new_token, {})


def test_unknown_token_gets_the_rfc_error(calendar: Server) -> None:
    for token in ("http://ipoint.invalid/ns/sync/0123456789abcdef-1", "garbage", "x" * 300):
        status, body = front(calendar, OWN, sync_report(token))
        assert status == 403
        assert ET.fromstring(body).find(DAV + "valid-sync-token") is not None


@pytest.mark.parametrize(
    "body",
    [
        query("<D:getetag/><D:displayname/>"),
        query('<C:calendar-data><C:comp name="VCALENDAR"/></C:calendar-data>'),
        query(
            "<D:getetag/>",
            '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
            '<C:prop-filter name="SUMMARY"><C:text-match>Moved</C:text-match></C:prop-filter>'
            "</C:comp-filter></C:comp-filter></C:filter>",
        ),
        sync_report().replace(
            "</sync-collection>", "<limit><nresults>1</nresults></limit></sync-collection>"
        ),
    ],
    ids=["other property", "calendar-data parts", "text-match", "limit"],
)
def test_other_forms_are_radicales(calendar: Server, body: str) -> None:
    before = answered(calendar)
    status, fast = front(calendar, OWN, body)
    ref_status, reference = radicale(calendar, OWN, body)
    assert answered(calendar) == before, "the front should have left this to Radicale"
    assert status == ref_status
    if status == 207:
        assert shape(fast) == shape(reference)


def test_nobody_gets_past_radicales_auth_and_rights(calendar: Server) -> None:
    body = FORMS["week with data"]
    before = answered(calendar)
    cases = [
        (None, OWN, 401),  # anonymous
        ("eve", OWN, 403),  # a technician without a grant
        ("dana", OWN, 403),
        ("boss", "/boss/ipoint-dana/", 403),  # no grant: a reserved name
        ("chris", "/dana/ipoint/", 403),
    ]
    for login, path, expected in cases:
        answer = calendar.request("REPORT", path, login, body, {"Depth": "1"})
        assert answer.status == expected, (login, path, answer.status)
        assert b"BEGIN:VEVENT" not in answer.body
    wrong = calendar.request(
        "REPORT",
        OWN,
        None,
        body,
        {"Depth": "1", **auth("chris", PASSWORD + "x")},
    )
    assert wrong.status == 401
    assert answered(calendar) == before
    # The mirror's service login reads every iPoint calendar, through the front.
    service = calendar.request("REPORT", "/dana/ipoint/", SERVICE, body, {"Depth": "1"})
    assert service.status == 207 and b"dana-job" in service.body
    assert answered(calendar) == before + 1


def test_large_answer_streams_whole(calendar: Server) -> None:
    many = [
        record(f"bulk-{i:04d}", user="dana", start="2027-01-04T09:00", end="2027-01-04T10:00")
        for i in range(1200)
    ]
    calendar.apply(*many)
    answer = calendar.request("REPORT", "/dana/ipoint/", "dana", sync_report(), {"Depth": "1"})
    assert answer.status == 207
    assert "Content-Length" not in answer.headers  # streamed, not built in memory first
    token, responses = shape(answer.body)
    assert token and len(responses) == 1201
    _, reference = radicale(calendar, "/dana/ipoint/", sync_report(), "dana")
    assert shape(answer.body) == shape(reference)


def test_a_client_that_stops_sending_gets_408(calendar: Server) -> None:
    settings = replace(
        calendar.settings, caldav=replace(calendar.settings.caldav, request_timeout=1.0)
    )
    handle = start_caldav(settings, store=calendar.store, port=0)
    try:
        with socket.create_connection((handle.host, handle.port), timeout=10) as conn:
            conn.sendall(
                b"REPORT /chris/ipoint/ HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n"
                + b"Authorization: "
                + auth("chris")["Authorization"].encode()
                + b"\r\n\r\n<?xml"
            )
            began = time.monotonic()
            answer = conn.recv(4096)
        assert answer.startswith(b"HTTP/1.0 408"), answer[:100]
        assert time.monotonic() - began < 5
    finally:
        handle.stop()


def test_a_store_failure_leaves_no_snapshot_open(
    calendar: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A read snapshot left open would pin that worker thread to an old state of the store.
    real_tzids, real_changes = calendar.store.calendar_tzids, calendar.store.changes_since
    failures = {"tzids": 1, "changes": 1}

    def tzids(cal: str) -> list[str]:
        if failures["tzids"]:
            failures["tzids"] -= 1
            raise StoreError("disk unplugged")
        return real_tzids(cal)

    def changes(cal: str, seq: int) -> Any:
        if failures["changes"]:
            failures["changes"] -= 1
            raise StoreError("disk unplugged")
        return real_changes(cal, seq)

    monkeypatch.setattr(calendar.store, "calendar_tzids", tzids)
    monkeypatch.setattr(calendar.store, "changes_since", changes)
    token, _ = shape(front(calendar, OWN, sync_report())[1])
    assert calendar.request("GET", OWN).status == 500
    assert front(calendar, OWN, sync_report(token or ""))[0] == 500
    assert failures == {"tzids": 0, "changes": 0}
    calendar.apply(record("after-failure"))
    for _ in range(24):  # every worker thread, several times over
        assert b"after-failure" in calendar.request("GET", OWN).body
        _, seen = shape(front(calendar, OWN, sync_report(token or ""))[1])
        assert OWN + "after-failure.ics" in seen


@pytest.mark.parametrize(("login", "path"), [("chris", OWN), ("boss", GRANTED)])
def test_calendar_get_carries_the_propfind_etag(calendar: Server, login: str, path: str) -> None:
    probe = (
        '<?xml version="1.0" encoding="utf-8"?><propfind xmlns="DAV:"><prop><getetag/>'
        "<getlastmodified/><displayname/></prop></propfind>"
    )
    listed = calendar.request("PROPFIND", path, login, probe, {"Depth": "0"})
    root = ET.fromstring(listed.body)
    before = answered(calendar)
    got = calendar.request("GET", path, login)
    assert answered(calendar) == before + 1, "the front did not answer this GET"
    assert got.status == 200
    assert got.headers["ETag"] == root.findtext(f".//{DAV}getetag")
    assert got.headers["Last-Modified"] == root.findtext(f".//{DAV}getlastmodified")
    assert got.headers["Content-Type"] == "text/calendar; charset=utf-8"
    name = root.findtext(f".//{DAV}displayname") or ""
    assert f"X-WR-CALNAME:{name}" in got.body.decode()
    assert got.body.count(b"BEGIN:VEVENT") == len(
        shape(front(calendar, path, sync_report(), login)[1])[1]
    )
    again = calendar.request("GET", path, login, headers={"If-None-Match": got.headers["ETag"]})
    assert (again.status, again.body) == (304, b"")
    head = calendar.request("HEAD", path, login)
    assert head.status == 200 and head.headers["ETag"] == got.headers["ETag"]
