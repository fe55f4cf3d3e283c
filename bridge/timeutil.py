"""Time rules of the bridge: parsing iPoint times, the DST rule for local times, index spans.

The host's zone is never consulted: every naive time is read in a zone passed in (the shop's
``[bridge] timezone`` or the record's ``timezone``).

DST rule (RFC 5545 section 3.3.5, and what Python's ``fold=0`` gives): a local time that falls in
the spring-forward gap is read with the offset before the gap, so 02:30 on the change day becomes
03:30 daylight time; a local time that occurs twice at fall-back is the first occurrence
(daylight time).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Index end of series that never end (9999-12-31).
FOREVER = 253402300799
#: Years an ingest time may fall in: far enough from datetime's own edges (1 and 9999) that
#: adding a zone offset, a duration or a day never overflows.
MIN_YEAR, MAX_YEAR = 1900, 2199
#: Single events longer than this are indexed as "long" (see store.iter_range).
LONG_SPAN_S = 7 * 86400

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")
_FILEMAKER = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?$")


class TimeParseError(ValueError):
    """A time string is not in a form the bridge reads."""


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ``ValueError`` names it when unknown."""
    try:
        if len(name) > 255:
            raise ValueError("too long")
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name like America/Chicago)"
        ) from exc


def resolve_local(naive: datetime, tz: ZoneInfo) -> datetime:
    """Attach ``tz`` to a naive wall time by the DST rule above, normalised to a real time."""
    aware = naive.replace(tzinfo=tz, fold=0)
    return aware.astimezone(UTC).astimezone(tz)


def parse_when(text: str, tz: ZoneInfo) -> datetime | date:
    """Parse an ingest time: a bare date (all-day), a naive local time (in ``tz``),
    or a time with an offset or ``Z`` (kept as that instant, shown in ``tz``), in the years
    ``MIN_YEAR`` to ``MAX_YEAR``."""
    text = text.strip()
    if text[:4].isdigit() and not MIN_YEAR <= int(text[:4]) <= MAX_YEAR:
        raise TimeParseError(f"{text[:40]!r} is not between {MIN_YEAR} and {MAX_YEAR}")
    if _DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            raise TimeParseError(f"{text!r} is not a real date") from exc
    if _LOCAL.match(text):
        try:
            naive = datetime.fromisoformat(text.replace(" ", "T"))
        except ValueError as exc:
            raise TimeParseError(f"{text!r} is not a real date and time") from exc
        return resolve_local(naive.replace(microsecond=0), tz)
    if _OFFSET.match(text):
        try:
            aware = datetime.fromisoformat(text.replace(" ", "T").replace("Z", "+00:00"))
        except ValueError as exc:
            raise TimeParseError(f"{text!r} is not a real date and time") from exc
        return aware.replace(microsecond=0).astimezone(tz)
    raise TimeParseError(
        f"{text!r} is not YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] or that with an offset or Z"
    )


def parse_modified(text: str, tz: ZoneInfo) -> datetime:
    """iPoint's modification time: ISO 8601, or FileMaker's ``MM/dd/yyyy HH:mm:ss``
    (no zone: read in ``tz``). Returned in UTC."""
    text = text.strip()
    m = _FILEMAKER.match(text)
    if m:
        month, day, year, hour, minute, second = m.groups()
        if not MIN_YEAR <= int(year) <= MAX_YEAR:
            raise TimeParseError(f"{text!r} is not between {MIN_YEAR} and {MAX_YEAR}")
        try:
            naive = datetime(
                int(year), int(month), int(day), int(hour), int(minute), int(second or 0)
            )
        except ValueError as exc:
            raise TimeParseError(f"{text!r} is not a real date and time") from exc
        return resolve_local(naive, tz).astimezone(UTC)
    value = parse_when(text, tz)
    if not isinstance(value, datetime):
        value = resolve_local(datetime.combine(value, time()), tz)
    return value.astimezone(UTC)


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The instant a calendar day begins in ``tz`` (midnight, or the first real minute)."""
    return resolve_local(datetime.combine(day, time()), tz)


def instant(value: datetime | date, tz: ZoneInfo) -> int:
    """Epoch seconds of a time, or of the start of a day in ``tz``."""
    if isinstance(value, datetime):
        return int(value.timestamp())
    return int(day_start(value, tz).timestamp())


def basic_stamp(value: datetime) -> str:
    """RFC 5545 local form of a time's wall clock, e.g. 20261201T090000.

    %-formatting rather than ``strftime`` or an f-string: a third and a half of their cost,
    and every stored record renders several of these (the years are 1900-2199, so all give
    four digits).
    """
    return "%04d%02d%02dT%02d%02d%02d" % (  # noqa: UP031 (see above)
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
    )


def basic_date(value: date) -> str:
    """RFC 5545 DATE form, e.g. 20261201 (see ``basic_stamp`` for why not ``strftime``)."""
    return "%04d%02d%02d" % (value.year, value.month, value.day)  # noqa: UP031


def utc_stamp(value: datetime) -> str:
    """RFC 5545 UTC form, e.g. 20261201T150000Z."""
    return basic_stamp(value.astimezone(UTC)) + "Z"


def add_days(value: date, days: int) -> date:
    return value + timedelta(days=days)
