"""Validation of the recurrence fields of an ingest record (``rrule``, ``exdates``):
RFC 5545 3.3.10 rules normalised to what calendars and Google expect."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

from dateutil.rrule import rrulestr

from .timeutil import TimeParseError, parse_when, resolve_local

Fail = Callable[[str, str], None]
"""Records one problem: (field, reason)."""


def parse_rrule(fail: Fail, value: object, start: datetime | date | None, tz: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        fail("rrule", "must be text like FREQ=WEEKLY;BYDAY=MO")
        return None
    text = value.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts = [p for p in text.split(";") if p]
    out: list[str] = []
    for part in parts:
        key, sep, val = part.partition("=")
        if not sep or not key or not val:
            fail("rrule", f"{part!r} is not NAME=VALUE")
            return None
        key = key.upper()
        if key == "UNTIL" and start is not None:
            until = parse_until(fail, val, start, tz)
            if until is None:
                return None
            val = until
        out.append(f"{key}={val.upper() if key != 'UNTIL' else val}")
    rule = ";".join(out)
    if not any(p.startswith("FREQ=") for p in out):
        fail("rrule", "needs FREQ (RFC 5545 3.3.10)")
        return None
    if start is not None:
        dtstart = (
            start.replace(tzinfo=None)
            if isinstance(start, datetime)
            else datetime.combine(start, time())
        )
        try:
            rrulestr(
                rule.replace("Z", "")
                if isinstance(start, date) and not isinstance(start, datetime)
                else rule,
                dtstart=dtstart if "Z" not in rule else dtstart.replace(tzinfo=UTC),
            )
        except (ValueError, TypeError) as exc:
            fail("rrule", f"not a valid RFC 5545 rule: {exc}")
            return None
    return rule


def parse_until(fail: Fail, val: str, start: datetime | date, tz: Any) -> str | None:
    """RFC 5545 3.3.10: UNTIL is a DATE for all-day series, and UTC for zoned timed series."""
    text = val.strip().upper()
    m = re.fullmatch(r"(\d{8})(?:T(\d{6})(Z?))?", text)
    if not m:
        fail("rrule", f"UNTIL={val} is not YYYYMMDD or YYYYMMDDTHHMMSSZ")
        return None
    day = datetime.strptime(m.group(1), "%Y%m%d")
    if not isinstance(start, datetime):
        return m.group(1)
    if m.group(2) is None:
        local = resolve_local(day.replace(hour=23, minute=59, second=59), tz)
        return local.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    moment = datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S")
    if m.group(3):
        return moment.strftime("%Y%m%dT%H%M%SZ")
    return resolve_local(moment, tz).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def parse_exdates(
    fail: Fail, value: object, start: datetime | date | None, tz: Any
) -> tuple[datetime | date, ...]:
    if value is None or value == "" or value == []:
        return ()
    items: list[object]
    if isinstance(value, str):
        items = [p.strip() for p in value.split(",") if p.strip()]
    elif isinstance(value, list):
        items = list(value)
    else:
        fail("exdates", "must be a list of dates or times")
        return ()
    out: list[datetime | date] = []
    timed = isinstance(start, datetime)
    for item in items:
        if not isinstance(item, str):
            fail("exdates", f"{item!r} is not a date or time")
            continue
        try:
            when = parse_when(item, tz)
        except TimeParseError as exc:
            fail("exdates", str(exc))
            continue
        if timed and not isinstance(when, datetime):
            assert isinstance(start, datetime)
            when = resolve_local(datetime.combine(when, start.astimezone(tz).time()), tz)
        elif not timed and isinstance(when, datetime):
            when = when.astimezone(tz).date()
        out.append(when)
    return tuple(sorted(set(out), key=lambda d: d.isoformat()))
