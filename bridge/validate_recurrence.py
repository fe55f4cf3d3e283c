"""Validation of the recurrence fields of an ingest record (``rrule``, ``exdates``): the rule
is read and normalised by ``bridge.recurrence`` (what is accepted and why is said there)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from .recurrence import RecurrenceError, normalise
from .timeutil import TimeParseError, parse_when, resolve_local
from .validate_fields import Fail


def parse_rrule(
    fail: Fail, value: object, start: datetime | date | None, tz: ZoneInfo, max_instances: int
) -> str | None:
    """The normalised rule, or None (with a problem recorded when ``value`` is refused).

    Without a valid start (already a problem of its own) the rule is not read.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 1000:
        fail("rrule", "must be text like FREQ=WEEKLY;BYDAY=MO (at most 1000 characters)")
        return None
    if start is None:
        return None
    try:
        return normalise(value, start, tz, max_instances)
    except RecurrenceError as exc:
        fail("rrule", str(exc))
        return None


def parse_exdates(
    fail: Fail, value: object, start: datetime | date | None, tz: ZoneInfo, limit: int
) -> tuple[datetime | date, ...]:
    """The excluded instances (at most ``limit``), as times in ``tz`` for a timed series and
    dates for an all-day one."""
    if value is None or value == "" or value == []:
        return ()
    items: list[object]
    if isinstance(value, str):
        if value.count(",") >= limit:
            fail("exdates", f"more than {limit} dates ([ingest] max_instances)")
            return ()
        items = [p.strip() for p in value.split(",") if p.strip()]
    elif isinstance(value, list):
        items = list(value)
    else:
        fail("exdates", "must be a list of dates or times")
        return ()
    if len(items) > limit:
        fail("exdates", f"{len(items)} dates, more than {limit} ([ingest] max_instances)")
        return ()
    out: list[datetime | date] = []
    timed = isinstance(start, datetime)
    for item in items:
        if not isinstance(item, str) or len(item) > 64:
            fail("exdates", f"{str(item)[:40]!r} is not a date or time")
            return ()
        try:
            when = parse_when(item, tz)
        except TimeParseError as exc:
            fail("exdates", str(exc))
            return ()
        if timed and not isinstance(when, datetime):
            assert isinstance(start, datetime)
            when = resolve_local(datetime.combine(when, start.astimezone(tz).time()), tz)
        elif not timed and isinstance(when, datetime):
            when = when.astimezone(tz).date()
        out.append(when)
    return tuple(sorted(set(out), key=lambda d: d.isoformat()))
