"""Every iCalendar text the server hands out parses with icalendar and vobject and carries what
RFC 5545 and subscribing clients need (UID, DTSTAMP, SEQUENCE, TZID + VTIMEZONE, CRLF, folding)."""

from __future__ import annotations

import html
import re

import pytest
import vobject
from icalendar import Calendar

from tests.caldav.conftest import Server, record, time_range_report

LONG = "Bring the ladder; the rack is in the attic, behind the Ø-shaped duct. " * 5


@pytest.fixture(scope="module", autouse=True)
def events(server: Server) -> None:
    server.apply(
        record(
            "v-wo",
            kind="work_order",
            number="WO-1042",
            customer="Müller, Hans",
            phone="+1 312 555 0100",
            location="12 Main St; Suite 4",
            description=LONG,
            work_status="Scheduled",
        ),
        record("v-allday", start="2026-12-24", end="2026-12-26", title="Shop closed 🎄"),
        record(
            "v-weekly",
            start="2026-12-07T08:00",
            end="2026-12-07T08:30",
            rrule="FREQ=WEEKLY;UNTIL=20270301T140000Z",
            exdates=["2026-12-28T08:00"],
        ),
        record(
            "v-berlin", timezone="Europe/Berlin", start="2026-12-02T09:00", end="2026-12-02T10:00"
        ),
        record("v-utc", timezone="UTC", start="2026-12-03T09:00", end="2026-12-03T10:00"),
        record("v-cancelled", status="cancelled"),
        record("v:odd~id", title="Odd id"),
    )


def check(text: bytes | str) -> Calendar:
    raw = text.encode() if isinstance(text, str) else text
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    for line in raw.split(b"\r\n"):
        assert len(line) <= 75, line
    cal = Calendar.from_ical(raw)
    parsed = vobject.readOne(raw.decode())
    assert parsed.name == "VCALENDAR"
    zones = {str(z["TZID"]) for z in cal.walk("VTIMEZONE")}
    for event in cal.walk("VEVENT"):
        for prop in ("UID", "DTSTAMP", "DTSTART", "SEQUENCE", "LAST-MODIFIED", "STATUS"):
            assert prop in event, prop
        tzid = event["DTSTART"].params.get("TZID")
        if tzid:
            assert tzid in zones
    return cal


def test_collection_get(server: Server) -> None:
    cal = check(server.request("GET", "/chris/ipoint/").body)
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert {"ipoint-v-wo", "ipoint-v-allday", "ipoint-v:odd~id"} <= set(events)
    assert {str(z["TZID"]) for z in cal.walk("VTIMEZONE")} >= {"America/Chicago", "Europe/Berlin"}
    wo = events["ipoint-v-wo"]
    assert "WO-1042" in str(wo["DESCRIPTION"]) and "Müller, Hans" in str(wo["DESCRIPTION"])
    assert str(wo["LOCATION"]) == "12 Main St; Suite 4"
    assert events["ipoint-v-cancelled"]["STATUS"] == "CANCELLED"
    assert str(events["ipoint-v-allday"]["DTEND"].dt) == "2026-12-27"
    assert events["ipoint-v-utc"]["DTSTART"].dt.utcoffset().total_seconds() == 0


def test_every_item_get(server: Server) -> None:
    listing = server.request("PROPFIND", "/chris/ipoint/", headers={"Depth": "1"}).body.decode()
    hrefs = set(re.findall(r"<href>(/chris/ipoint/[^<]+\.ics)</href>", listing))
    assert len(hrefs) >= 7
    assert any("/~" in h for h in hrefs)  # the id with ":" and "~" is encoded
    for href in hrefs:
        answer = server.request("GET", html.unescape(href))
        assert answer.status == 200, href
        cal = check(answer.body)
        assert len(cal.walk("VEVENT")) == 1


def test_report_calendar_data(server: Server) -> None:
    body = time_range_report("20261130T000000Z", "20270101T000000Z")
    answer = server.request("REPORT", "/chris/ipoint/", body=body, headers={"Depth": "1"})
    datas = re.findall(r"<C:calendar-data>(.*?)</C:calendar-data>", answer.body.decode(), re.S)
    assert len(datas) >= 6
    for data in datas:
        check(html.unescape(data).replace("\n", "\r\n").replace("\r\r\n", "\r\n"))
