"""Which events of a calendar overlap a time range (RFC 4791 9.9), answered from the store.

The store's index is exact for single events and returns a series when its whole span
overlaps the range; whether an instance does is decided here from the stored record, with the
zone rules of ``zoneinfo``. Parsing the item with vobject instead (Radicale's own filter) costs
about 15 ms per series, mostly in building a dateutil zone from the VTIMEZONE, which would
dominate a week's query. The plugin's ``get_filtered`` and the WSGI front's REPORT both select
through ``in_range``.
"""

from __future__ import annotations

import json
import logging
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import islice
from zoneinfo import ZoneInfo

from radicale.item import filter as radicale_filter

from ..records import StoredEvent, from_json_dict
from ..recurrence import Series, build, instances
from ..store import EventStore
from ..timeutil import day_start, zone

logger = logging.getLogger(__name__)

_LAST = 253402300799  # 9999-12-31T23:59:59Z, the last instant datetime can hold
MAX_STEPS = 10_000  # [caldav] max_expansion_steps' default


def bounds(start: int, end: int) -> tuple[datetime, datetime] | None:
    """The UTC range of Radicale's prefilter timestamps, None when it is open on both ends."""
    if start <= radicale_filter.TIMESTAMP_MIN and end >= radicale_filter.TIMESTAMP_MAX:
        return None
    lo = datetime.fromtimestamp(max(start, radicale_filter.TIMESTAMP_MIN), UTC)
    hi = datetime.fromtimestamp(min(end, _LAST), UTC)
    return lo, hi


def is_recurring(event: StoredEvent) -> bool:
    return "\r\nRRULE:" in event.ics or "\r\nRDATE" in event.ics


def in_range(
    store: EventStore,
    calendar: str,
    lo: datetime,
    hi: datetime,
    limit: int = MAX_STEPS,
    read: RangeRead | None = None,
) -> Iterator[tuple[StoredEvent, bool]]:
    """Events of ``calendar`` with an instance overlapping [lo, hi), streamed: (event, True)
    when decided here, (event, False) for a series only a parsed item can tell (rare: a rule
    dateutil cannot read); events certainly outside are left out. ``read`` is ``read_range``
    done before in the same snapshot: its verdicts are used (no rule is expanded here) and its
    events, when it kept them, are not read again."""
    events = read.events if read is not None and read.events is not None else None
    for event in events if events is not None else store.iter_range(calendar, lo, hi):
        if not is_recurring(event):
            yield event, True
            continue
        if read is not None and event.id in read.verdicts:
            found = read.verdicts[event.id]
        else:
            found = has_instance(event, lo, hi, limit)
        if found is None:
            yield event, False
        elif found:
            yield event, True


KEPT_EVENTS = 1000
"""Events of a range ``read_range`` keeps for the answer (a week's, as a rule); a longer range
is read again while the answer streams, so memory stays bounded."""


@dataclass(frozen=True, slots=True)
class RangeRead:
    """What ``read_range`` found: ``has_instance`` of every series in the range, and the
    range's events when there were at most ``KEPT_EVENTS`` (else None)."""

    verdicts: dict[str, bool | None]
    events: list[StoredEvent] | None


def read_range(
    store: EventStore, calendar: str, lo: datetime, hi: datetime, limit: int = MAX_STEPS
) -> RangeRead:
    """Every series the index returns for [lo, hi) expanded up front, outside any lock other
    requests wait on (``application``); one read of the range serves the answer too."""
    verdicts: dict[str, bool | None] = {}
    kept: list[StoredEvent] | None = []
    for event in store.iter_range(calendar, lo, hi):
        if kept is not None:
            kept.append(event)
            if len(kept) > KEPT_EVENTS:
                kept = None
        if is_recurring(event):
            verdicts[event.id] = has_instance(event, lo, hi, limit)
    return RangeRead(verdicts, kept)


def _overlap(start: float, end: float, lo: float, hi: float) -> bool:
    if end > start:
        return start < hi and end > lo
    return lo <= start < hi  # RFC 4791 9.9: a zero-length instance is a point


_LISTED = 2000  # a series with at most this many instances is listed once per revision
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class _Series:
    """A recurring event's rule read once: its instances as POSIX (start, end) pairs, listed
    up front when the series is finite and short (most iPoint series), else generated."""

    rule: Series
    tz: ZoneInfo
    length: timedelta | None  # timed instances; None for all-day ones
    days: int  # all-day instances' length in days
    skip_times: frozenset[float]
    skip_days: frozenset[date]
    starts: tuple[float, ...] | None = None
    ends: tuple[float, ...] | None = None

    @property
    def reach(self) -> timedelta:
        """How long before a range an instance may start and still overlap it."""
        return self.length + _DAY if self.length is not None else (self.days + 2) * _DAY

    def instances(
        self, after: datetime | None = None, budget: _Budget | None = None
    ) -> Iterator[tuple[float, float]]:
        """(start, end) of the instances starting at or after ``after`` (all when None), in
        order, taking at most ``budget`` steps of the rule (counted from its first instance)."""
        # With a budget, ``[caldav] max_expansion_steps`` is the bound (the admin's to set),
        # not the recurrence module's general one.
        starts: Iterable[datetime] = (
            instances(self.rule, after)
            if budget is None
            else instances(self.rule, after, limit=budget.left, take=budget.take)
        )
        if self.length is not None:
            span = self.length.total_seconds()
            for start in starts:
                stamp = start.timestamp()
                if stamp not in self.skip_times:
                    yield stamp, stamp + span
            return
        for midnight in starts:
            day = midnight.date()
            if day not in self.skip_days:
                first = day_start(day, self.tz).timestamp()
                yield first, day_start(day + timedelta(days=self.days), self.tz).timestamp()


@dataclass(slots=True)
class _Budget:
    """Steps of a rule's expansion still allowed (``[caldav] max_expansion_steps``)."""

    left: int

    def take(self, items: Iterable[datetime]) -> Iterator[datetime]:
        for item in items:
            if self.left <= 0:
                return
            self.left -= 1
            yield item


def _read(data: str) -> _Series | None:
    record = from_json_dict(json.loads(data))
    if not record.rrule:
        return None
    tz = zone(record.timezone)
    if isinstance(record.start, datetime) and isinstance(record.end, datetime):
        return _Series(
            rule=build(record.rrule, record.start, tz),
            tz=tz,
            length=record.end - record.start,
            days=0,
            skip_times=frozenset(x.timestamp() for x in record.exdates if isinstance(x, datetime)),
            skip_days=frozenset(),
        )
    if isinstance(record.start, date) and isinstance(record.end, date):
        return _Series(
            rule=build(record.rrule, record.start, tz),
            tz=tz,
            length=None,
            days=(record.end - record.start).days,
            skip_times=frozenset(),
            skip_days=frozenset(x for x in record.exdates if not isinstance(x, datetime)),
        )
    return None


@lru_cache(maxsize=4096)
def _series(data: str) -> _Series | None:
    # Keyed by the stored record (JSON): a changed event is a new key. rrule objects built
    # without dateutil's cache hold no iteration state, so threads share them.
    series = _read(data)
    if series is None:
        return None
    listed = list(islice(series.instances(), _LISTED + 1))
    if len(listed) > _LISTED:
        return series  # long or endless: generated from the range on each query
    return replace(series, starts=tuple(s for s, _ in listed), ends=tuple(e for _, e in listed))


def has_instance(
    event: StoredEvent, lo: datetime, hi: datetime, limit: int = MAX_STEPS
) -> bool | None:
    """True/False when an instance of ``event``'s series overlaps [lo, hi); None when this
    module cannot tell (the caller falls back to Radicale's filter on the parsed item). A
    series that needs more than ``limit`` steps to reach the range counts as matching: listed
    rather than hidden, and never an unbounded loop (an endless SECONDLY rule)."""
    try:
        series = _series(event.data)
        if series is None:
            return None
        lo_s, hi_s = lo.timestamp(), hi.timestamp()
        earliest = lo - series.reach
        if series.starts is not None and series.ends is not None:
            at = bisect_left(series.starts, earliest.timestamp())
            for start, end in zip(series.starts[at:], series.ends[at:], strict=True):
                if start >= hi_s:
                    return False
                if _overlap(start, end, lo_s, hi_s):
                    return True
            return False
        budget = _Budget(limit)
        for start, end in series.instances(earliest, budget):
            if start >= hi_s:
                return False
            if _overlap(start, end, lo_s, hi_s):
                return True
        if budget.left <= 0:
            logger.warning(
                "recurrence of %s needs over %d steps to reach a range ([caldav] "
                "max_expansion_steps): answered as matching",
                event.id,
                limit,
            )
            return True
        return False
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        logger.debug("recurrence of %s left to Radicale's filter: %s", event.id, exc)
    return None
