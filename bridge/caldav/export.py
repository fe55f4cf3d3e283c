"""Whole calendars as iCalendar text, streamed from the store's pre-rendered VEVENT blocks.

Used for a CalDAV collection GET (by the WSGI front and the plugin's ``serialize``) and for the
subscription feeds. Nothing is parsed: the store renders every VEVENT at ingest (``bridge.ical``),
so a calendar is a header, one VTIMEZONE per zone used (RFC 5545 3.6.5), the blocks, a footer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ..ical import CRLF, calendar_text
from ..records import StoredEvent
from ..store import EventStore
from ..text import xml_safe

_END = "END:VCALENDAR" + CRLF


@dataclass(frozen=True, slots=True)
class CalendarHeader:
    """What goes around the events: X-WR-CALNAME, X-WR-TIMEZONE and extra lines (METHOD...)."""

    name: str | None = None
    timezone: str | None = None
    extra: tuple[str, ...] = field(default_factory=tuple)


def wrap(events: Iterable[str], tzids: Iterable[str], header: CalendarHeader) -> Iterator[str]:
    """The VCALENDAR around ``events`` (VEVENT blocks), piece by piece."""
    head = calendar_text((), tzids, name=header.name, timezone=header.timezone, extra=header.extra)
    assert head.endswith(_END)
    yield head[: -len(_END)]
    # Blocks stored before ingest cleaned text may hold controls iCalendar cannot carry.
    yield from (xml_safe(e) for e in events)
    yield _END


def stream_calendar(store: EventStore, calendar: str, header: CalendarHeader) -> Iterator[str]:
    """Every live event of ``calendar`` in one VCALENDAR, streamed page by page."""
    tzids = store.calendar_tzids(calendar)
    return wrap((e.ics for e in store.iter_calendar(calendar)), tzids, header)


def window_calendar(events: list[StoredEvent], header: CalendarHeader) -> Iterator[str]:
    """A VCALENDAR of already selected events (a feed's window)."""
    return wrap((e.ics for e in events), {e.tzid for e in events}, header)
