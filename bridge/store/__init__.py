"""The event store: the one repository interface every other part of the bridge uses.

``EventStore`` is the contract; ``SQLEventStore`` (``sql.py``) implements it over the
``Database`` seam (SQLite by default, PostgreSQL for larger shops) without callers knowing which.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime
from typing import Protocol

from ..records import ApplyResult, CalendarState, ChangeSet, EventRecord, StoredEvent, User
from .db import Database


class EventStore(Protocol):
    """Repository of iPoint events, their calendars and the change log.

    Every method is safe to call from any thread.
    """

    db: Database
    instance: str
    """Random id of this database, part of sync tokens so a token never matches another DB."""

    def apply(
        self,
        records: Sequence[EventRecord],
        deletes: Sequence[str] = (),
        *,
        replace_users: Collection[str] | None = None,
        max_delete_share: float | None = None,
        force: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> ApplyResult:
        """Insert/update ``records`` and delete ``deletes`` in one transaction.

        Args:
            records: validated records; ids must be unique within the call.
            deletes: ids to delete (tombstoned; unknown ids are reported ``absent``).
            replace_users: when given, the records are the complete set for these owners:
                their stored events missing from ``records`` are deleted too.
            max_delete_share: with ``replace_users``, the share of those owners' events a
                replace may delete without ``force``.
            force: skip the safety valve.
            progress: called now and then with how many records and deletes are written
                (inside the transaction: they count only once it commits).

        Returns:
            One outcome per record and delete, in input order, and the change-log position.

        Raises:
            SafetyValveError: a replace would delete too much; nothing changed.
            StoreError: the database failed; nothing changed.
        """
        ...

    def get(self, event_id: str) -> StoredEvent | None:
        """The live (not deleted) event with this id."""
        ...

    def get_many(self, calendar: str, event_ids: Sequence[str]) -> list[StoredEvent]:
        """Live events on ``calendar`` among ``event_ids`` (missing ones left out)."""
        ...

    def users(self) -> list[User]:
        """Every login that has a calendar, sorted."""
        ...

    def user(self, login: str) -> User | None: ...

    def ensure_user(self, login: str, name: str | None = None) -> User:
        """Create the calendar of ``login`` if missing (e.g. declared in the config)."""
        ...

    def calendar_state(self, calendar: str) -> CalendarState | None:
        """Position, size and last change of one calendar; None if it does not exist."""
        ...

    def iter_calendar(self, calendar: str) -> Iterator[StoredEvent]:
        """Every live event on ``calendar``, streamed in pages (the caller must exhaust or close
        it); an event changed during the iteration appears in either version, never twice."""
        ...

    def stamps(
        self, calendar: str, event_ids: Sequence[str] | None = None
    ) -> Iterator[tuple[str, str, float]]:
        """(id, etag, updated) of live events on ``calendar``: all of them (streamed in pages),
        or those among ``event_ids``. Reads no event text: CalDAV listings of 100k events
        (initial sync, PROPFIND depth 1) need only these."""
        ...

    def blocks(self, calendar: str, event_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """id -> (VEVENT block, TZID) of live events on ``calendar`` among ``event_ids``."""
        ...

    def calendar_tzids(self, calendar: str) -> list[str]:
        """The zones (TZIDs) the live events on ``calendar`` use, sorted; a whole calendar
        needs their VTIMEZONEs before its first event."""
        ...

    def iter_range(self, calendar: str, start: datetime, end: datetime) -> Iterator[StoredEvent]:
        """Live events on ``calendar`` that may overlap [start, end).

        Exact (RFC 4791 9.9 overlap) for single events; recurring events are returned when
        their series' span overlaps, and the caller checks their instances. Answered from
        indexed columns, not by scanning the calendar.
        """
        ...

    def changes_since(self, calendar: str, seq: int) -> ChangeSet:
        """Events on ``calendar`` created, changed or removed after ``seq``.

        Costs the number of changes, not the size of the calendar. ``seq`` 0 lists every
        live event (an initial sync). Raises ``UnknownSyncToken`` when ``seq`` is ahead of
        the log or older than the retained tombstones.
        """
        ...

    def feed_token(self, calendar: str) -> str:
        """The secret feed token of ``calendar``, created on first use."""
        ...

    def rotate_feed_token(self, calendar: str) -> str:
        """Replace the feed token; the old one stops working at once."""
        ...

    def calendar_for_feed_token(self, token: str) -> str | None: ...

    def close(self) -> None: ...
