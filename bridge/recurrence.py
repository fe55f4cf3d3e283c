"""The one reader of recurrence rules (RFC 5545 3.3.10, 3.8.5.3): what the bridge accepts, how
a rule becomes instances, and how far a series reaches. Validation, the store's index spans and
CalDAV time ranges all go through here, so they agree on every rule, and every expansion is
bounded.

What is accepted (all else is refused at ingest, naming the part):
- FREQ DAILY, WEEKLY, MONTHLY or YEARLY. iPoint's repeat options, and Google's, Apple's and
  Outlook's, are these four. SECONDLY and MINUTELY series are refused because they only ever
  arrive as an attack (``FREQ=SECONDLY;COUNT=100000000`` held the write path for minutes);
  HOURLY is refused as well: no iPoint record repeats by the hour, and without it (and without
  BYHOUR/BYMINUTE/BYSECOND) no series has more than about one instance a day, so the work of
  any expansion is bounded by the days it covers.
- INTERVAL 1-1000 (dateutil steps a huge interval one day at a time), COUNT 1 to the
  configured ``[ingest] max_instances``, UNTIL, WKST, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS.
- The rule must produce a first instance, and one no later than its UNTIL. dateutil looks for
  instances up to year 9999, period by period: a rule that never matches
  (``FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30``) costs seconds of CPU on every expansion. The probe
  runs the rule moved by whole 400-year Gregorian cycles (which keep every weekday, leap year
  and interval phase) to within 400 years of 9999, so it ends in bounded time.

Times: a timed series is expanded in its zone's wall time (``dtstart`` aware; UNTIL is UTC, as
3.3.10 requires with a TZID start); an all-day series on naive dates (UNTIL a date).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import dropwhile, islice
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from .timeutil import MAX_YEAR, MIN_YEAR, day_start

FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
PARTS = frozenset(
    {"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS"}
)
MAX_INTERVAL = 1000
#: Instances read at most by one expansion, those skipped before ``after`` included (dateutil
#: always starts at DTSTART): one a day for the 300 accepted years (1900-2199).
SCAN_LIMIT = 110_000
#: Instances read to find the exact end of an UNTIL series; past them UNTIL bounds it.
UNTIL_SCAN = 2000
_CYCLE_YEARS = 400  # the Gregorian calendar repeats exactly (146097 days, 20871 weeks)
_MIN_PROBE_YEARS = 28  # the weekday and leap-year pattern repeats (between century years)
_VALUE = re.compile(r"[A-Z0-9,+\-]{1,200}")
_NUMBER = re.compile(r"[0-9]{1,9}")
_UNTIL = re.compile(r"(\d{8})(?:T(\d{6})(Z?))?")


class RecurrenceError(ValueError):
    """A rule the bridge does not accept; the message says which part and why."""


def normalise(text: str, start: datetime | date, tz: ZoneInfo, max_instances: int) -> str:
    """The canonical form of an ingest rule (``FREQ=...;...``, UNTIL as a date for all-day
    series and in UTC for timed ones), checked as the module docstring says.

    Raises:
        RecurrenceError: naming the part that is refused.
    """
    text = text.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts: dict[str, str] = {}
    for part in (p for p in text.split(";") if p):
        key, sep, val = part.partition("=")
        key = key.strip().upper()
        val = val.strip()
        if not sep or not key or not val:
            raise RecurrenceError(f"{part[:40]!r} is not NAME=VALUE")
        if key not in PARTS:
            raise RecurrenceError(f"{key[:20]} is not accepted (parts: {', '.join(sorted(PARTS))})")
        if key in parts:
            raise RecurrenceError(f"{key} appears twice")
        if key == "UNTIL":
            val = _until(val, start, tz)
        elif not _VALUE.fullmatch(val.upper()):
            raise RecurrenceError(f"{key}={val[:40]} is not a valid value")
        parts[key] = val if key == "UNTIL" else val.upper()
    freq = parts.get("FREQ")
    if freq is None:
        raise RecurrenceError("needs FREQ (RFC 5545 3.3.10)")
    if freq not in FREQS:
        raise RecurrenceError(
            f"FREQ={freq[:20]} is not accepted: iPoint repeats {', '.join(FREQS)}"
        )
    if "COUNT" in parts and "UNTIL" in parts:
        raise RecurrenceError("COUNT and UNTIL together (RFC 5545 3.3.10 allows one)")
    _number(parts, "INTERVAL", 1, MAX_INTERVAL)
    _number(parts, "COUNT", 1, max_instances)
    rule_text = ";".join(f"{k}={v}" for k, v in parts.items())
    series = build(rule_text, start, tz)
    first = _first(series)
    if first is None:
        raise RecurrenceError(
            f"produces no instance (none in the {_MIN_PROBE_YEARS} years after its start)"
        )
    if series.until is not None and first > series.until:
        raise RecurrenceError("UNTIL is before the first instance")
    return rule_text


def _number(parts: dict[str, str], key: str, lo: int, hi: int) -> None:
    val = parts.get(key)
    if val is not None and not (_NUMBER.fullmatch(val) and lo <= int(val) <= hi):
        raise RecurrenceError(f"{key} must be a whole number from {lo} to {hi}")


def _until(val: str, start: datetime | date, tz: ZoneInfo) -> str:
    """RFC 5545 3.3.10: UNTIL is a DATE for all-day series and UTC for zoned timed series; a
    date or a local time given for a timed series is read in its zone (a date: its last
    second)."""
    m = _UNTIL.fullmatch(val.upper())
    if not m:
        raise RecurrenceError(f"UNTIL={val[:40]} is not YYYYMMDD or YYYYMMDDTHHMMSSZ")
    try:
        day = datetime.strptime(m.group(1), "%Y%m%d")
        moment = datetime.strptime(m.group(1) + (m.group(2) or "235959"), "%Y%m%d%H%M%S")
    except ValueError as exc:
        raise RecurrenceError(f"UNTIL={val[:40]} is not a real date") from exc
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise RecurrenceError(f"UNTIL={val[:40]} is not between {MIN_YEAR} and {MAX_YEAR}")
    if not isinstance(start, datetime):
        return day.strftime("%Y%m%d")
    if m.group(3):
        return moment.strftime("%Y%m%dT%H%M%SZ")
    try:
        local = moment.replace(tzinfo=tz, fold=0).astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise RecurrenceError(f"UNTIL={val[:40]} is out of range") from exc
    return local.strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True, slots=True)
class Series:
    """A rule read for expansion, with what it needs to be compared and bounded."""

    rule: rrule
    tz: ZoneInfo
    dtstart: datetime
    """Aware (timed series) or naive midnight (all-day)."""
    until: datetime | None
    count: int | None


def build(rule_text: str, start: datetime | date, tz: ZoneInfo) -> Series:
    """The dateutil rule of a stored or normalised rule: timed series in ``tz`` wall time,
    all-day series on naive midnights. Tolerates an UNTIL in the other form (older rows).

    Raises:
        RecurrenceError: dateutil cannot read it.
    """
    timed = isinstance(start, datetime)
    dtstart = (
        start.astimezone(tz) if isinstance(start, datetime) else datetime.combine(start, time())
    )
    until: datetime | None = None
    count: int | None = None
    out = []
    for part in rule_text.split(";"):
        key, _, val = part.partition("=")
        key = key.upper()
        if key == "UNTIL":
            m = _UNTIL.fullmatch(val.upper())
            if m and not timed:
                val = m.group(1)
            elif m and not m.group(3):
                val = _until(val, start, tz)
            try:
                until = (
                    datetime.strptime(val, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
                    if timed
                    else datetime.strptime(val, "%Y%m%d")
                )
            except ValueError as exc:
                raise RecurrenceError(f"UNTIL={val[:40]} is not a real date") from exc
        elif key == "COUNT" and _NUMBER.fullmatch(val):
            count = int(val)
        out.append(f"{key}={val}")
    try:
        rule = rrulestr(";".join(out), dtstart=dtstart, cache=False)
    except (ValueError, TypeError, OverflowError, KeyError) as exc:
        raise RecurrenceError(f"not a valid RFC 5545 rule: {exc}") from exc
    if not isinstance(rule, rrule):
        raise RecurrenceError("one RRULE only")
    return Series(rule, tz, dtstart, until, count)


def _shift(year: int) -> int:
    """Years to move a series starting in ``year`` so that it runs into year 9999 (where
    dateutil stops) soon, without changing any date's weekday or any year's length over the
    years probed: the nearest such place at least 28 years (a whole weekday and leap cycle)
    before 9999, else whole 400-year Gregorian cycles."""
    if year >= 9999 - _MIN_PROBE_YEARS:
        return 0
    for target in range(9999 - _MIN_PROBE_YEARS, 9999 - 2 * _MIN_PROBE_YEARS - 28, -1):
        shift = target - year
        window = range(year, year + 9999 - target + 1)
        if (date(target, 1, 1) - date(year, 1, 1)).days % 7 == 0 and all(
            calendar.isleap(y) == calendar.isleap(y + shift) for y in window
        ):
            return shift
    return (9999 - _MIN_PROBE_YEARS - year) // _CYCLE_YEARS * _CYCLE_YEARS


def _first(series: Series) -> datetime | None:
    """The first instance, found in bounded time (see the module docstring)."""
    naive = series.dtstart.replace(tzinfo=None)
    shift = _shift(naive.year)
    probe = series.rule.replace(
        dtstart=naive.replace(year=naive.year + shift), until=None, count=None, cache=False
    )
    found = next(iter(probe), None)
    if found is None:
        return None
    first = found.replace(year=found.year - shift)
    return first.replace(tzinfo=series.dtstart.tzinfo)


def instances(
    series: Series,
    after: datetime | None = None,
    limit: int = SCAN_LIMIT,
    take: Callable[[Iterable[datetime]], Iterator[datetime]] | None = None,
) -> Iterator[datetime]:
    """Starts of the instances (at or after ``after``, all when None), reading at most
    ``limit`` instances from the series' start; ``take`` (a caller's own budget, shared across
    series) sees every instance read, the skipped ones before ``after`` included.
    An all-day series' instances are naive midnights: an aware ``after`` is read in its zone."""
    bounded = islice(series.rule if take is None else take(series.rule), limit)
    if after is None:
        return bounded
    if series.dtstart.tzinfo is None:
        if after.tzinfo is not None:
            after = after.astimezone(series.tz)
        after = after.replace(tzinfo=None)
    elif after.tzinfo is None:
        after = after.replace(tzinfo=series.dtstart.tzinfo)
    start = after
    return dropwhile(lambda moment: moment < start, bounded)


def last_start(
    rule_text: str, start: datetime | date, tz: ZoneInfo, limit: int = SCAN_LIMIT
) -> datetime | None:
    """The start of a series' last instance (wall time; aware for timed series), or None when
    the series has no end or it lies beyond ``limit`` instances and no UNTIL bounds it.

    Raises:
        RecurrenceError: dateutil cannot read the rule.
    """
    series = build(rule_text, start, tz)
    if series.count is None and series.until is None:
        return None
    if series.until is not None:
        limit = min(limit, UNTIL_SCAN)
    last = None
    seen = 0
    for last in instances(series, limit=limit + 1):  # noqa: B007
        seen += 1
    if seen <= limit:
        return last if last is not None else series.dtstart
    if series.until is not None:
        # No instance starts after UNTIL: a bound that costs no further iteration.
        return series.until.astimezone(tz) if series.until.tzinfo else series.until
    return None


def end_of(last: datetime, start: datetime | date, end: datetime | date, tz: ZoneInfo) -> float:
    """Epoch seconds when an instance starting at ``last`` ends (``end - start`` long)."""
    if isinstance(start, datetime) and isinstance(end, datetime):
        return last.timestamp() + (end - start).total_seconds()
    days = (_day(end) - _day(start)).days
    return day_start(last.date() + timedelta(days=days), tz).timestamp()


def _day(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value
