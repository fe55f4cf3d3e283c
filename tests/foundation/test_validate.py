"""The ingest validation path: time rules (DST pinned), all-day ends, every problem named."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bridge.errors import ValidationError
from bridge.validate import validate_batch, validate_record

TZ = "America/Chicago"


def ok(**fields: object):
    base: dict[str, object] = {"id": "wo-1", "user": "chris", "title": "Install"}
    base.update(fields)
    record, problems = validate_record(base, TZ)
    assert problems == [], problems
    assert record is not None
    return record


def problems(**fields: object) -> list[tuple[str | None, str]]:
    base: dict[str, object] = {
        "id": "wo-1",
        "user": "chris",
        "title": "Install",
        "start": "2026-12-01T09:00",
        "end": "2026-12-01T10:00",
    }
    base.update(fields)
    record, found = validate_record({k: v for k, v in base.items() if v is not ...}, TZ)
    assert record is None
    return [(p.field, p.reason) for p in found]


def test_naive_time_is_shop_local_not_host_local() -> None:
    r = ok(start="2026-12-01T09:00", end="2026-12-01T11:30")
    assert isinstance(r.start, datetime)
    assert r.start.astimezone(UTC) == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    assert r.end.astimezone(UTC) == datetime(2026, 12, 1, 17, 30, tzinfo=UTC)


def test_offset_and_z_are_honoured_and_shown_in_shop_zone() -> None:
    r = ok(start="2026-12-01T15:00:00Z", end="2026-12-01T12:00-05:00")
    assert r.start.astimezone(UTC) == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    assert r.end.astimezone(UTC) == datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    assert str(r.start.tzinfo) == TZ


def test_record_timezone_overrides_shop_zone() -> None:
    r = ok(start="2026-12-01T09:00", end="2026-12-01T10:00", timezone="America/New_York")
    assert r.timezone == "America/New_York"
    assert r.start.astimezone(UTC).hour == 14


def test_dst_gap_time_moves_forward_by_the_gap() -> None:
    # 2026-03-08 02:30 does not exist in Chicago: read with the offset before the gap
    # (RFC 5545 3.3.5), i.e. 03:30 CDT = 08:30 UTC.
    r = ok(start="2026-03-08T02:30", end="2026-03-08T04:00")
    assert r.start.astimezone(UTC) == datetime(2026, 3, 8, 8, 30, tzinfo=UTC)
    assert (r.start.hour, r.start.minute) == (3, 30)


def test_dst_repeated_time_is_first_occurrence() -> None:
    # 2026-11-01 01:30 happens twice in Chicago: the first (CDT, -05:00) is taken.
    r = ok(start="2026-11-01T01:30", end="2026-11-01T03:00")
    assert r.start.astimezone(UTC) == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert r.end.astimezone(UTC) - r.start.astimezone(UTC) == timedelta(hours=2, minutes=30)


def test_all_day_end_is_inclusive_in_input_exclusive_stored() -> None:
    r = ok(start="2026-12-24", end="2026-12-26")
    assert r.all_day and r.start == date(2026, 12, 24) and r.end == date(2026, 12, 27)
    single = ok(start="2026-12-24")
    assert single.end == date(2026, 12, 25)


def test_all_day_flag_on_times_uses_their_dates() -> None:
    r = ok(start="2026-12-24T08:00", end="2026-12-25T17:00", all_day=True)
    assert r.all_day and (r.start, r.end) == (date(2026, 12, 24), date(2026, 12, 26))


def test_attendees_dedupe_and_exclude_owner() -> None:
    r = ok(start="2026-12-01", attendees=["dana", "chris", "dana", "sam"])
    assert r.attendees == ("dana", "sam")
    assert r.calendars == ("chris", "dana", "sam")
    assert ok(start="2026-12-01", attendees="dana, sam").attendees == ("dana", "sam")


def test_filemaker_modified_is_read_in_shop_zone() -> None:
    r = ok(start="2026-12-01", modified="12/01/2026 08:15:00")
    assert r.modified == datetime(2026, 12, 1, 14, 15, tzinfo=UTC)


def test_rrule_until_becomes_utc_for_timed_series() -> None:
    r = ok(
        start="2026-12-01T09:00",
        end="2026-12-01T10:00",
        rrule="RRULE:FREQ=WEEKLY;BYDAY=TU;UNTIL=20270330",
        exdates=["2026-12-08"],
    )
    assert r.rrule == "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270331T045959Z"
    assert r.exdates == (datetime(2026, 12, 8, 9, 0, tzinfo=r.start.tzinfo),)


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"start": "2026-02-30T09:00"}, "start", "not a real date"),
        ({"start": "tomorrow"}, "start", "is not YYYY-MM-DD"),
        ({"end": ...}, "end", "required for a timed event"),
        ({"end": "2026-12-01T08:00"}, "end", "before start"),
        ({"end": "2026-12-02"}, "end", "both as dates"),
        ({"timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
        ({"kind": "meeting"}, "kind", "work_order or event"),
        ({"status": "done"}, "status", "confirmed, tentative or cancelled"),
        ({"rrule": "BYDAY=MO"}, "rrule", "needs FREQ"),
        ({"rrule": "FREQ=SOMETIMES"}, "rrule", "not accepted"),
        ({"title": ""}, "title", "required"),
        ({"user": "chris smith"}, "user", "login"),
        ({"id": "has space"}, "id", "letters, digits"),
        ({"colour": "red"}, "colour", "unknown field"),
        ({"all_day": "maybe"}, "all_day", "true or false"),
        ({"modified": "yesterday"}, "modified", "MM/dd/yyyy"),
    ],
)
def test_bad_fields_are_named(fields: dict[str, object], field: str, words: str) -> None:
    found = problems(**fields)
    assert any(f == field and words in reason for f, reason in found), found


def test_batch_lists_every_problem_and_duplicates() -> None:
    raws = [
        (2, {"id": "a", "user": "chris", "title": "x", "start": "2026-12-01"}),
        (3, {"id": "b", "user": "chris", "title": "", "start": "bad"}),
        (4, {"id": "a", "user": "dana", "title": "y", "start": "2026-12-02"}),
        (5, ["not", "an", "object"]),
    ]
    with pytest.raises(ValidationError) as info:
        validate_batch(raws, TZ)
    found = {(p.line, p.record, p.field) for p in info.value.problems}
    assert (3, "b", "title") in found and (3, "b", "start") in found
    assert (4, "a", "id") in found
    assert (5, None, None) in found
