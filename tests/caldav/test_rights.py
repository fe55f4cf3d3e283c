"""Auth and rights: anonymous 401, strangers 403, writes to iPoint calendars 403 with an
explanation, personal calendars fully writable, the collection GET's 304."""

from __future__ import annotations

import pytest

from tests.caldav.conftest import Server, record

EVENT = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
    "UID:personal-1\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261202T150000Z\r\n"
    "DTEND:20261202T160000Z\r\nSUMMARY:Dentist\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
PROPPATCH = (
    '<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>'
    "<D:displayname>Mine now</D:displayname></D:prop></D:set></D:propertyupdate>"
)


@pytest.fixture(scope="module", autouse=True)
def events(server: Server) -> None:
    server.apply(record("r1"), record("r2", user="dana"))


@pytest.mark.parametrize(
    "path", ["/chris/ipoint/", "/chris/ipoint/r1.ics", "/chris/", "/boss/ipoint-chris/"]
)
def test_anonymous_gets_401(server: Server, path: str) -> None:
    for method in ("GET", "PROPFIND"):
        answer = server.request(method, path, login=None, headers={"Depth": "0"})
        assert answer.status == 401, (method, path)
        assert answer.headers.get("WWW-Authenticate", "").startswith("Basic")


def test_wrong_password_gets_401(server: Server) -> None:
    answer = server.request(
        "GET", "/chris/ipoint/", login=None, headers={"Authorization": "Basic Y2hyaXM6bm9wZQ=="}
    )
    assert answer.status == 401


def test_stranger_gets_403_and_no_content(server: Server) -> None:
    for login, path in (
        ("eve", "/chris/ipoint/"),
        ("dana", "/chris/ipoint/r1.ics"),
        ("boss", "/dana/ipoint/"),
        ("chris", "/boss/ipoint-chris/"),
    ):
        answer = server.request("GET", path, login=login)
        assert answer.status in (403, 404), (login, path)
        assert b"BEGIN:VCALENDAR" not in answer.body
        report = server.request(
            "REPORT",
            path if path.endswith("/") else path.rsplit("/", 1)[0] + "/",
            login=login,
            body='<sync-collection xmlns="DAV:"><sync-token/><prop><getetag/></prop>'
            "</sync-collection>",
            headers={"Depth": "1"},
        )
        assert report.status in (403, 404)


@pytest.mark.parametrize(
    ("method", "path", "body", "headers"),
    [
        ("PUT", "/chris/ipoint/new.ics", EVENT, {"Content-Type": "text/calendar"}),
        ("PUT", "/chris/ipoint/r1.ics", EVENT, {"Content-Type": "text/calendar"}),
        ("DELETE", "/chris/ipoint/r1.ics", None, {}),
        ("DELETE", "/chris/ipoint/", None, {}),
        ("PROPPATCH", "/chris/ipoint/", PROPPATCH, {}),
        ("MKCOL", "/chris/ipoint/sub/", None, {}),
        ("MKCALENDAR", "/chris/ipoint-x/", None, {}),
        ("MOVE", "/chris/ipoint/r1.ics", None, {"Destination": "/chris/personal/r1.ics"}),
    ],
)
def test_writes_to_ipoint_calendar_are_refused(
    server: Server, method: str, path: str, body: str | None, headers: dict[str, str]
) -> None:
    if "Destination" in headers:
        headers = {"Destination": server.url + headers["Destination"]}
    answer = server.request(method, path, body=body, headers=headers)
    assert answer.status == 403, answer.body
    assert b"managed by iPoint" in answer.body
    assert server.request("GET", "/chris/ipoint/r1.ics").status == 200


def test_move_into_ipoint_calendar_is_refused(server: Server) -> None:
    assert server.request("MKCALENDAR", "/chris/moving/").status == 201
    assert server.request("PUT", "/chris/moving/m.ics", body=EVENT).status == 201
    answer = server.request(
        "MOVE", "/chris/moving/m.ics", headers={"Destination": server.url + "/chris/ipoint/m.ics"}
    )
    assert answer.status == 403 and b"managed by iPoint" in answer.body


def test_grant_is_read_only_too(server: Server) -> None:
    answer = server.request("PUT", "/boss/ipoint-chris/x.ics", login="boss", body=EVENT)
    assert answer.status == 403 and b"managed by iPoint" in answer.body


def test_personal_calendar_is_fully_writable(server: Server) -> None:
    assert server.request("MKCALENDAR", "/chris/personal/").status == 201
    put = server.request(
        "PUT", "/chris/personal/dentist.ics", body=EVENT, headers={"Content-Type": "text/calendar"}
    )
    assert put.status == 201
    got = server.request("GET", "/chris/personal/dentist.ics")
    assert got.status == 200 and b"SUMMARY:Dentist" in got.body
    patched = server.request("PROPPATCH", "/chris/personal/", body=PROPPATCH)
    assert patched.status == 207
    home = server.request("PROPFIND", "/chris/", headers={"Depth": "1"})
    assert b"/chris/personal/" in home.body and b"/chris/ipoint/" in home.body
    assert server.request("DELETE", "/chris/personal/dentist.ics").status == 200
    assert server.request("DELETE", "/chris/personal/").status == 200
    # Someone else's personal calendar is off limits.
    assert server.request("MKCALENDAR", "/dana/mine/", login="eve").status == 403


def test_collection_get_honours_if_none_match(server: Server) -> None:
    full = server.request("GET", "/chris/ipoint/")
    assert full.status == 200 and full.headers["Content-Type"].startswith("text/calendar")
    etag = full.headers["ETag"]
    again = server.request("GET", "/chris/ipoint/", headers={"If-None-Match": etag})
    assert again.status == 304 and again.headers["ETag"] == etag and again.body == b""
    # Only for someone allowed to read it: a stranger learns nothing from the tag.
    stranger = server.request("GET", "/chris/ipoint/", login="eve", headers={"If-None-Match": etag})
    assert stranger.status == 403
    server.apply(record("r3"))
    changed = server.request("GET", "/chris/ipoint/", headers={"If-None-Match": etag})
    assert changed.status == 200 and b"UID:ipoint-r3" in changed.body
    # Personal calendars get the same conditional GET.
    assert server.request("MKCALENDAR", "/chris/cond/").status == 201
    tag = server.request("GET", "/chris/cond/").headers["ETag"]
    assert server.request("GET", "/chris/cond/", headers={"If-None-Match": tag}).status == 304


def test_gzip_stream_and_head(server: Server) -> None:
    import gzip

    plain = server.request("GET", "/chris/ipoint/")
    packed = server.request("GET", "/chris/ipoint/", headers={"Accept-Encoding": "gzip"})
    assert packed.headers.get("Content-Encoding") == "gzip"
    assert gzip.decompress(packed.body) == plain.body
    head = server.request("HEAD", "/chris/ipoint/")
    assert head.status == 200 and head.body == b"" and head.headers["ETag"]


def test_conditional_get_leaves_other_paths_to_radicale(server: Server) -> None:
    web = server.request("GET", "/.web/", login=None)
    again = server.request("GET", "/.web/", login=None, headers={"If-None-Match": '"x"'})
    assert again.status == web.status == 200
    item = server.request("GET", "/chris/ipoint/r1.ics")
    cached = server.request(
        "GET", "/chris/ipoint/r1.ics", headers={"If-None-Match": item.headers["ETag"]}
    )
    assert cached.status == 304
    missing = server.request("GET", "/chris/nothing.ics", headers={"If-None-Match": '"x"'})
    assert missing.status == 404
