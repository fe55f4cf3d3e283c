"""Time-range calendar-query (RFC 4791 7.8, 9.9) across the two DST changes of America/Chicago,
answered from the store's index; recurring events checked instance by instance."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from caldav import DAVClient

from tests.caldav.conftest import PASSWORD, Server, record, time_range_report

CHI = ZoneInfo("America/Chicago")


@pytest.fixture(scope="module", autouse=True)
def events(server: Server) -> None:
    server.apply(
        # Fall back 2026-11-01 02:00 CDT -> 01:00 CST: 01:30 happens twice (first = CDT).
        record("fb-before", start="2026-10-31T23:00", end="2026-11-01T00:30"),
        record("fb-ambiguous", start="2026-11-01T01:30", end="2026-11-01T01:45"),
        record("fb-after", start="2026-11-01T03:00", end="2026-11-01T04:00"),
        record("fb-allday", start="2026-11-01", end="2026-11-01"),
        # Spring forward 2027-03-14 02:00 CST -> 03:00 CDT: 02:30 does not exist (-> 03:30 CDT).
        record("sf-gap", start="2027-03-14T02:30", end="2027-03-14T04:00"),
        record("sf-morning", start="2027-03-14T09:00", end="2027-03-14T10:00"),
        # Weekly on Mondays 09:00 local, across the spring change, one Monday excluded.
        record(
            "sf-weekly",
            start="2027-03-01T09:00",
            end="2027-03-01T10:00",
            rrule="FREQ=WEEKLY;COUNT=6",
            exdates=["2027-03-15T09:00"],
        ),
        record("other-user", user="dana", start="2026-11-01T03:00", end="2026-11-01T04:00"),
    )


def query(server: Server, start: datetime, end: datetime, data: bool = False) -> set[str]:
    fmt = "%Y%m%dT%H%M%SZ"
    body = time_range_report(start.strftime(fmt), end.strftime(fmt), data=data)
    answer = server.request("REPORT", "/chris/ipoint/", body=body, headers={"Depth": "1"})
    assert answer.status == 207, answer.body
    return set(re.findall(r"/chris/ipoint/([^<]+)\.ics</href>", answer.body.decode()))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo("UTC"))


def test_fall_back_instants(server: Server) -> None:
    # 01:30 CDT = 06:30Z; the second 01:30 (CST) = 07:30Z must not match it.
    assert query(server, utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 6, 40)) == {
        "fb-ambiguous",
        "fb-allday",
    }
    assert query(server, utc(2026, 11, 1, 7, 30), utc(2026, 11, 1, 7, 40)) == {"fb-allday"}
    # 03:00 CST = 09:00Z.
    assert query(server, utc(2026, 11, 1, 8, 59), utc(2026, 11, 1, 9, 1)) == {
        "fb-after",
        "fb-allday",
    }


def test_all_day_event_covers_the_local_day(server: Server) -> None:
    # The all-day event is Nov 1 in Chicago: 05:00Z (CDT midnight) to 06:00Z Nov 2 (CST).
    assert "fb-allday" not in query(server, utc(2026, 11, 1, 4, 0), utc(2026, 11, 1, 4, 59))
    assert "fb-allday" in query(server, utc(2026, 11, 2, 5, 30), utc(2026, 11, 2, 5, 59))
    assert "fb-allday" not in query(server, utc(2026, 11, 2, 6, 0), utc(2026, 11, 2, 7, 0))


def test_spring_forward_gap_is_moved_to_real_time(server: Server) -> None:
    # 02:30 does not exist; the event starts 03:30 CDT = 08:30Z.
    assert query(server, utc(2027, 3, 14, 8, 0), utc(2027, 3, 14, 8, 29)) == set()
    assert query(server, utc(2027, 3, 14, 8, 30), utc(2027, 3, 14, 8, 31)) == {"sf-gap"}
    # 09:00 CDT = 14:00Z, not 15:00Z.
    assert query(server, utc(2027, 3, 14, 14, 0), utc(2027, 3, 14, 14, 5)) == {"sf-morning"}


def test_recurring_instances_across_dst_and_exdate(server: Server) -> None:
    # Monday 2027-03-08 09:00 CST = 15:00Z; Monday 2027-03-22 09:00 CDT = 14:00Z.
    assert query(server, utc(2027, 3, 8, 15, 0), utc(2027, 3, 8, 15, 5)) == {"sf-weekly"}
    assert query(server, utc(2027, 3, 22, 14, 0), utc(2027, 3, 22, 14, 5)) == {"sf-weekly"}
    assert query(server, utc(2027, 3, 22, 15, 0), utc(2027, 3, 22, 15, 5)) == set()
    # The excluded Monday, and a Tuesday inside the series' span, match nothing.
    assert query(server, utc(2027, 3, 15, 14, 0), utc(2027, 3, 15, 16, 0)) == set()
    assert query(server, utc(2027, 3, 9, 14, 0), utc(2027, 3, 9, 16, 0)) == set()
    # After the sixth instance (2027-04-05) the series is over.
    assert query(server, utc(2027, 4, 12, 0, 0), utc(2027, 4, 13, 0, 0)) == set()


def test_week_query_with_calendar_data_and_other_calendars_untouched(server: Server) -> None:
    found = query(server, utc(2026, 10, 26), utc(2026, 11, 2), data=True)
    assert found == {"fb-before", "fb-ambiguous", "fb-after", "fb-allday"}


def test_client_library_search(server: Server) -> None:
    with DAVClient(url=server.url + "/", username="chris", password=PASSWORD) as dav:
        calendar = dav.principal().calendars()[0]
        found = calendar.search(
            start=datetime(2027, 3, 14, tzinfo=CHI),
            end=datetime(2027, 3, 15, tzinfo=CHI),
            event=True,
        )
        uids = {str(e.icalendar_component["UID"]) for e in found}
    assert uids == {"ipoint-sf-gap", "ipoint-sf-morning"}


def test_free_busy_query(server: Server) -> None:
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav">'
        '<C:time-range start="20270314T000000Z" end="20270315T000000Z"/></C:free-busy-query>'
    )
    answer = server.request("REPORT", "/chris/ipoint/", body=body, headers={"Depth": "1"})
    assert answer.status == 200, answer.body
    text = answer.body.decode()
    assert "BEGIN:VFREEBUSY" in text
    # sf-gap 03:30-04:00 CDT and sf-morning 09:00-10:00 CDT.
    assert "20270314T083000Z/20270314T090000Z" in text.replace("\r\n ", "")
    assert "20270314T140000Z/20270314T150000Z" in text.replace("\r\n ", "")
