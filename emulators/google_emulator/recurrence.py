"""Expansion of recurring events into instances (RFC 5545 RRULE/EXRULE/RDATE/EXDATE).

A timed series expands in wall time of its ``start.timeZone`` (the reference: "for recurring
events this field is required and specifies the time zone in which the recurrence is
expanded"), so an instance keeps its local hour across DST changes. Instances are named as Google
names them: ``<recurringEventId>_<YYYYMMDDTHHMMSSZ>`` (start in UTC) for timed series and
``<recurringEventId>_<YYYYMMDD>`` for all-day ones. Infinite series are cut at a horizon.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule

from google_emulator.event_body import edt_value
from google_emulator.times import zone

JSON = dict[str, Any]
Start = date | datetime
_UNTIL_UTC = re.compile(r"UNTIL=(\d{8}T\d{6})Z", re.IGNORECASE)
_MAX_INSTANCES = 5000


class RecurrenceError(ValueError):
    pass


def series_zone(body: JSON, cal_tz: str) -> ZoneInfo:
    tz = zone(body["start"].get("timeZone") or cal_tz) or zone("UTC")
    assert tz is not None
    return tz


def _naive_local(value: Start, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value
        return value.astimezone(tz).replace(tzinfo=None)
    return datetime(value.year, value.month, value.day)


def _values(line: str, tz: ZoneInfo) -> list[datetime]:
    head, _, text = line.partition(":")
    params = dict(p.split("=", 1) for p in head.split(";")[1:] if "=" in p)
    vtz = zone(params.get("TZID", "")) or tz
    out: list[datetime] = []
    for raw in text.split(","):
        raw = raw.strip()
        if not raw:
            continue
        if len(raw) == 8:
            out.append(datetime.strptime(raw, "%Y%m%d"))
        elif raw.endswith(("Z", "z")):
            instant = datetime.strptime(raw[:-1], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
            out.append(instant.astimezone(tz).replace(tzinfo=None))
        else:
            local = datetime.strptime(raw, "%Y%m%dT%H%M%S").replace(tzinfo=vtz)
            out.append(local.astimezone(tz).replace(tzinfo=None))
    return out


def _ruleset(body: JSON, cal_tz: str) -> tuple[Any, datetime, ZoneInfo, bool]:
    tz = series_zone(body, cal_tz)
    first = edt_value(body["start"], cal_tz)
    all_day = not isinstance(first, datetime)
    dtstart = _naive_local(first, tz)
    rset = rrule.rruleset()
    try:
        for line in body.get("recurrence", []):
            name = line.split(":", 1)[0].split(";", 1)[0].upper()
            if name in ("RRULE", "EXRULE"):
                value = line.split(":", 1)[1]

                def _until(match: re.Match[str]) -> str:
                    instant = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S")
                    local = instant.replace(tzinfo=UTC).astimezone(tz)
                    return "UNTIL=" + local.strftime("%Y%m%dT%H%M%S")

                value = _UNTIL_UTC.sub(_until, value)
                rule = rrule.rrulestr(value, dtstart=dtstart)
                if not isinstance(rule, rrule.rrule):
                    raise RecurrenceError("one rule per line")
                (rset.rrule if name == "RRULE" else rset.exrule)(rule)
            elif name == "RDATE":
                for value_dt in _values(line, tz):
                    rset.rdate(value_dt)
            elif name == "EXDATE":
                for value_dt in _values(line, tz):
                    rset.exdate(value_dt)
    except (ValueError, TypeError, IndexError) as exc:
        raise RecurrenceError(str(exc)) from exc
    return rset, dtstart, tz, all_day


def validate(body: JSON, cal_tz: str) -> None:
    """Raise ``RecurrenceError`` when the recurrence lines cannot be expanded."""
    rset, _, _, _ = _ruleset(body, cal_tz)
    try:
        next(iter(rset), None)
    except (ValueError, TypeError) as exc:
        raise RecurrenceError(str(exc)) from exc


def duration(body: JSON, cal_tz: str) -> timedelta:
    first, last = edt_value(body["start"], cal_tz), edt_value(body["end"], cal_tz)
    if isinstance(first, datetime) and isinstance(last, datetime):
        return last - first
    assert not isinstance(first, datetime) and not isinstance(last, datetime)
    return timedelta(days=(last - first).days)


def is_finite(body: JSON) -> bool:
    """Whether every RRULE/EXRULE line ends (COUNT or UNTIL)."""
    rules = [r.upper() for r in body.get("recurrence", []) if r.upper().startswith("RRULE")]
    return all("COUNT=" in r or "UNTIL=" in r for r in rules)


def occurrences(
    body: JSON,
    cal_tz: str,
    *,
    until: datetime | None,
    after: datetime | None = None,
) -> Iterator[Start]:
    """Instance starts (aware datetimes, or dates) from about ``after`` up to ``until`` (``None``:
    to the end of a finite series); at most 5000. Callers filter the edges exactly."""
    rset, _, tz, all_day = _ruleset(body, cal_tz)
    span = duration(body, cal_tz)
    lower = None if after is None else _naive_local(after, tz) - span - timedelta(days=1)
    upper = None if until is None else _naive_local(until, tz) + timedelta(days=1)
    source = rset if lower is None else rset.xafter(lower, inc=True)
    for count, naive in enumerate(source):
        if (upper is not None and naive > upper) or count >= _MAX_INSTANCES:
            return
        yield naive.date() if all_day else naive.replace(tzinfo=tz)


def stamp(original: Start) -> str:
    if isinstance(original, datetime):
        return original.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return original.strftime("%Y%m%d")


def parse_stamp(text: str) -> Start:
    if "T" in text:
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return datetime.strptime(text, "%Y%m%d").date()


def is_occurrence(body: JSON, cal_tz: str, original: Start) -> bool:
    """Whether ``original`` is a start of the series (ignoring EXDATE-cancelled ones)."""
    if isinstance(original, datetime):
        probe = original
        until = original + timedelta(seconds=1)
    else:
        probe = datetime(original.year, original.month, original.day, tzinfo=UTC)
        until = probe + timedelta(days=1)
    for start in occurrences(body, cal_tz, until=until, after=probe - timedelta(days=2)):
        if start == original:
            return True
    return False


def original_edt(body: JSON, original: Start) -> JSON:
    """The ``originalStartTime`` of an instance, shaped like the series' ``start``."""
    if isinstance(original, datetime):
        edt: JSON = {"dateTime": original.isoformat()}
        if body["start"].get("timeZone"):
            edt["timeZone"] = body["start"]["timeZone"]
        return edt
    return {"date": original.isoformat()}
