"""RFC 5545 output: parses with two independent parsers, folds, escapes, zones are exact."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest
import vobject

from bridge.ical import calendar_text, escape_text, fold, render_vevent, vtimezone
from bridge.timeutil import zone
from bridge.validate import validate_record

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def rec(**fields: object):
    raw: dict[str, object] = {
        "id": "wo-9",
        "user": "chris",
        "title": "Install, mount; test",
        "start": "2026-12-01T09:00",
        "end": "2026-12-01T10:00",
    }
    raw.update(fields)
    record, problems = validate_record(raw, "America/Chicago")
    assert record is not None, problems
    return record


def test_escape_and_fold_octets() -> None:
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    line = "DESCRIPTION:" + "é" * 80
    folded = fold(line)
    for part in folded.split("\r\n"):
        assert len(part.encode()) <= 75
    assert folded.replace("\r\n ", "") == line


def test_event_parses_with_icalendar_and_vobject() -> None:
    r = rec(
        kind="work_order",
        number="WO-1042",
        customer="Acme",
        phone="555-0100",
        location="12 Main St, Springfield",
        description="Bring the ladder\nand cable",
        rrule="FREQ=WEEKLY;COUNT=4",
        exdates=["2026-12-08T09:00"],
    )
    text = calendar_text([render_vevent(r, 3, NOW - timedelta(days=1), NOW)], [r.timezone])
    cal = icalendar.Calendar.from_ical(text)
    ev = next(iter(cal.walk("VEVENT")))
    assert str(ev["UID"]) == "ipoint-wo-9"
    assert ev["SEQUENCE"] == 2
    assert ev.decoded("DTSTART") == datetime(2026, 12, 1, 9, tzinfo=zone("America/Chicago"))
    assert str(ev["SUMMARY"]) == "Install, mount; test"
    desc = str(ev["DESCRIPTION"])
    assert desc.startswith("Work order WO-1042") and "Customer: Acme" in desc
    assert "Job site: 12 Main St, Springfield" in desc and "Bring the ladder\nand cable" in desc
    assert str(ev["CATEGORIES"].cats[0]) == "Work order"
    parsed = vobject.readOne(text)
    assert parsed.vevent.rrule.value == "FREQ=WEEKLY;COUNT=4"
    starts = list(parsed.vevent.getrruleset())
    assert len(starts) == 3  # one of four excluded


def test_all_day_is_value_date_with_exclusive_end() -> None:
    r = rec(start="2026-12-24", end="2026-12-25")
    block = render_vevent(r, 1, NOW, NOW)
    assert "DTSTART;VALUE=DATE:20261224\r\n" in block
    assert "DTEND;VALUE=DATE:20261226\r\n" in block


def test_a_moment_has_no_dtend() -> None:
    # RFC 5545 3.6.1: a DATE-TIME DTSTART without DTEND ends at its start; RFC 4791 9.9 then
    # matches it in any range containing that instant (DTEND = DTSTART would not be).
    r = rec(start="2026-12-01T09:00", end="2026-12-01T09:00")
    block = render_vevent(r, 1, NOW, NOW)
    assert "DTSTART;TZID=America/Chicago:20261201T090000\r\n" in block
    assert "DTEND" not in block
    ev = next(
        iter(icalendar.Calendar.from_ical(calendar_text([block], [r.timezone])).walk("VEVENT"))
    )
    assert ev.decoded("DTSTART") == datetime(2026, 12, 1, 9, tzinfo=zone("America/Chicago"))
    assert "DTEND" in render_vevent(rec(), 1, NOW, NOW)


@pytest.mark.parametrize(
    "tzid",
    ["America/Chicago", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "America/Sao_Paulo"],
)
def test_vtimezone_matches_zoneinfo_every_week(tzid: str) -> None:
    text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n" + vtimezone(tzid) + "END:VCALENDAR\r\n"
    parsed = vobject.readOne(text).vtimezone.gettzinfo()
    real = zone(tzid)
    moment = datetime(2000, 1, 1, 12, 0)
    while moment.year < 2036:
        assert (
            moment.replace(tzinfo=parsed).utcoffset() == moment.replace(tzinfo=real).utcoffset()
        ), moment
        moment += timedelta(days=7)


def test_vtimezone_offsets_match_zoneinfo() -> None:
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
        + vtimezone("America/Chicago")
        + "END:VCALENDAR\r\n"
    )
    tzinfo = vobject.readOne(text).vtimezone.gettzinfo()
    chicago = zone("America/Chicago")
    for moment in (
        datetime(2026, 3, 8, 1, 59),
        datetime(2026, 3, 8, 3, 0),
        datetime(2026, 11, 1, 0, 59),
        datetime(2026, 11, 1, 2, 0),
        datetime(2027, 7, 1, 12, 0),
        date(1999, 1, 1),
    ):
        naive = moment if isinstance(moment, datetime) else datetime(1999, 1, 1)
        assert naive.replace(tzinfo=tzinfo).utcoffset() == naive.replace(tzinfo=chicago).utcoffset()
