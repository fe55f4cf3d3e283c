"""``EventStore`` over a SQL ``Database`` (SQLite or PostgreSQL): portable SQL only."""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime
from typing import Any

from ..errors import UnknownSyncToken
from ..records import (
    ApplyResult,
    CalendarState,
    Change,
    ChangeSet,
    EventRecord,
    StoredEvent,
    User,
)
from ..timeutil import LONG_SPAN_S
from . import schema
from .db import Connection, Database
from .writes import apply_batch, max_seq, touch_users

logger = logging.getLogger(__name__)

_EVENT_COLS = "e.id, e.tzid, e.ics, e.etag, e.revision, e.hash, e.updated, e.seq, e.data"
_CHUNK = 500


def _stored(row: tuple[Any, ...]) -> StoredEvent:
    return StoredEvent(
        id=row[0],
        tzid=row[1],
        ics=row[2],
        etag=row[3],
        revision=int(row[4]),
        content_hash=row[5],
        updated=float(row[6]),
        seq=int(row[7]),
        data=row[8],
    )


class SQLEventStore:
    """The event store over any ``Database``; see ``EventStore`` for the contract."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self._clock = clock
        db.migrate(schema.COMPONENT, schema.STEPS)
        self.instance = self._instance_id()

    def _instance_id(self) -> str:
        with self.db.transaction() as conn:
            rows = conn.execute("SELECT value FROM meta WHERE key = 'instance'")
            if rows:
                return str(rows[0][0])
            value = uuid.uuid4().hex
            conn.execute("INSERT INTO meta (key, value) VALUES ('instance', ?)", (value,))
            return value

    # ---------------------------------------------------------------- writes

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
        ids = [r.id for r in records]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate ids in one apply")
        if set(ids) & set(deletes):
            raise ValueError("an id is both written and deleted in one apply")
        now = self._clock()
        with self.db.transaction() as conn:
            return apply_batch(
                conn,
                records,
                deletes,
                now,
                replace_users=replace_users,
                max_delete_share=max_delete_share,
                force=force,
                progress=progress,
            )

    def ensure_user(self, login: str, name: str | None = None) -> User:
        with self.db.transaction() as conn:
            touch_users(conn, {login: name}, self._clock(), max_seq(conn))
            rows = conn.execute("SELECT login, name FROM users WHERE login = ?", (login,))
        return User(rows[0][0], rows[0][1])

    # ---------------------------------------------------------------- reads

    def get(self, event_id: str) -> StoredEvent | None:
        with self.db.snapshot() as conn:
            rows = conn.execute(
                f"SELECT {_EVENT_COLS} FROM events e WHERE e.id = ? AND e.deleted = 0", (event_id,)
            )
        return _stored(rows[0]) if rows else None

    def get_many(self, calendar: str, event_ids: Sequence[str]) -> list[StoredEvent]:
        out: list[StoredEvent] = []
        with self.db.snapshot() as conn:
            for i in range(0, len(event_ids), _CHUNK):
                chunk = list(event_ids[i : i + _CHUNK])
                marks = ",".join("?" * len(chunk))
                out.extend(
                    _stored(row)
                    for row in conn.execute(
                        # "+c.deleted": without statistics SQLite would scan the calendar on
                        # entries_range; the primary key finds each id directly (20x at 100k).
                        f"SELECT {_EVENT_COLS} FROM entries c JOIN events e ON e.id = c.event_id "
                        f"WHERE c.calendar = ? AND +c.deleted = 0 AND c.event_id IN ({marks})",
                        [calendar, *chunk],
                    )
                )
        return out

    def stamps(
        self, calendar: str, event_ids: Sequence[str] | None = None
    ) -> Iterator[tuple[str, str, float]]:
        if event_ids is not None:
            for i in range(0, len(event_ids), _CHUNK):
                chunk = list(event_ids[i : i + _CHUNK])
                marks = ",".join("?" * len(chunk))
                with self.db.snapshot() as conn:
                    rows = conn.execute(
                        "SELECT e.id, e.etag, e.updated FROM entries c "
                        "JOIN events e ON e.id = c.event_id WHERE c.calendar = ? "
                        f"AND +c.deleted = 0 AND c.event_id IN ({marks})",
                        [calendar, *chunk],
                    )
                for row in rows:
                    yield str(row[0]), str(row[1]), float(row[2])
            return
        after = ""
        while True:  # pages on the primary key, as iter_calendar
            with self.db.snapshot() as conn:
                rows = conn.execute(
                    "SELECT e.id, e.etag, e.updated FROM entries c "
                    "JOIN events e ON e.id = c.event_id WHERE c.calendar = ? "
                    "AND c.event_id > ? AND c.deleted = 0 ORDER BY c.event_id LIMIT ?",
                    (calendar, after, _CHUNK * 4),
                )
            for row in rows:
                yield str(row[0]), str(row[1]), float(row[2])
            if len(rows) < _CHUNK * 4:
                return
            after = rows[-1][0]

    def blocks(self, calendar: str, event_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        out: dict[str, tuple[str, str]] = {}
        with self.db.snapshot() as conn:
            for i in range(0, len(event_ids), _CHUNK):
                chunk = list(event_ids[i : i + _CHUNK])
                marks = ",".join("?" * len(chunk))
                for row in conn.execute(
                    "SELECT e.id, e.ics, e.tzid FROM entries c JOIN events e ON e.id = c.event_id "
                    f"WHERE c.calendar = ? AND +c.deleted = 0 AND c.event_id IN ({marks})",
                    [calendar, *chunk],
                ):
                    out[str(row[0])] = (str(row[1]), str(row[2]))
        return out

    def users(self) -> list[User]:
        with self.db.snapshot() as conn:
            rows = conn.execute("SELECT login, name FROM users ORDER BY login")
        return [User(r[0], r[1]) for r in rows]

    def user(self, login: str) -> User | None:
        with self.db.snapshot() as conn:
            rows = conn.execute("SELECT login, name FROM users WHERE login = ?", (login,))
        return User(rows[0][0], rows[0][1]) if rows else None

    def calendar_state(self, calendar: str) -> CalendarState | None:
        with self.db.snapshot() as conn:
            found = self._position(conn, calendar)
            if found is None:
                return None
            seq, created = found
            at = conn.execute("SELECT at FROM change_log WHERE seq = ?", (seq,)) if seq else []
        last = float(at[0][0]) if at else created
        return CalendarState(user=calendar, seq=seq, last_modified=last, instance=self.instance)

    @staticmethod
    def _position(conn: Connection, calendar: str) -> tuple[int, float] | None:
        """(change-log position, creation time) of a calendar; None if it does not exist."""
        users = conn.execute("SELECT meta_seq, created FROM users WHERE login = ?", (calendar,))
        if not users:
            return None
        rows = conn.execute("SELECT max(seq) FROM entries WHERE calendar = ?", (calendar,))
        return max(int(rows[0][0] or 0), int(users[0][0])), float(users[0][1])

    def count(self, calendar: str) -> int:
        """Live events on ``calendar`` (a scan of its index; not for hot paths)."""
        with self.db.snapshot() as conn:
            rows = conn.execute(
                "SELECT count(*) FROM entries WHERE calendar = ? AND deleted = 0", (calendar,)
            )
        return int(rows[0][0])

    def iter_calendar(self, calendar: str) -> Iterator[StoredEvent]:
        # Pages keyed on the primary key, each read in its own snapshot: memory stays flat at
        # 100k events, and no snapshot is held while the caller runs between pages.
        after = ""
        while True:
            with self.db.snapshot() as conn:
                rows = conn.execute(
                    f"SELECT {_EVENT_COLS} FROM entries c JOIN events e ON e.id = c.event_id "
                    "WHERE c.calendar = ? AND c.event_id > ? AND c.deleted = 0 "
                    "ORDER BY c.event_id LIMIT ?",
                    (calendar, after, _CHUNK),
                )
            for row in rows:
                yield _stored(row)
            if len(rows) < _CHUNK:
                return
            after = rows[-1][0]

    def calendar_tzids(self, calendar: str) -> list[str]:
        with self.db.snapshot() as conn:
            rows = conn.execute(
                "SELECT DISTINCT e.tzid FROM entries c JOIN events e ON e.id = c.event_id "
                "WHERE c.calendar = ? AND c.deleted = 0",
                (calendar,),
            )
        return sorted(str(r[0]) for r in rows)

    def iter_range(self, calendar: str, start: datetime, end: datetime) -> Iterator[StoredEvent]:
        lo, hi = int(start.timestamp()), int(end.timestamp())
        with self.db.snapshot() as conn:
            rows = conn.execute(
                f"SELECT {_EVENT_COLS} FROM entries c JOIN events e ON e.id = c.event_id "
                "WHERE c.calendar = ? AND c.deleted = 0 AND c.long = 0 "
                "AND c.range_start >= ? AND c.range_start < ? "
                "AND (c.range_end > ? OR c.range_start >= ?) "
                "UNION ALL "
                f"SELECT {_EVENT_COLS} FROM entries c JOIN events e ON e.id = c.event_id "
                "WHERE c.calendar = ? AND c.deleted = 0 AND c.long = 1 "
                "AND c.range_start < ? AND (c.range_end > ? OR c.range_start >= ?)",
                (calendar, lo - LONG_SPAN_S, hi, lo, lo, calendar, hi, lo, lo),
            )
        for row in rows:
            yield _stored(row)

    def changes_since(self, calendar: str, seq: int) -> ChangeSet:
        with self.db.snapshot() as conn:
            found = self._position(conn, calendar)
            current = found[0] if found else 0
            if seq < 0 or seq > current:
                raise UnknownSyncToken(f"sync position {seq} is unknown for {calendar!r}")
            if seq == 0:
                rows = conn.execute(
                    "SELECT event_id, seq, deleted FROM entries "
                    "WHERE calendar = ? AND deleted = 0 ORDER BY seq",
                    (calendar,),
                )
            else:
                rows = conn.execute(
                    "SELECT event_id, seq, deleted FROM entries "
                    "WHERE calendar = ? AND seq > ? ORDER BY seq",
                    (calendar, seq),
                )
        return ChangeSet(
            seq=current, changes=tuple(Change(r[0], int(r[1]), bool(r[2])) for r in rows)
        )

    # ---------------------------------------------------------------- feed tokens

    def feed_token(self, calendar: str) -> str:
        with self.db.transaction() as conn:
            rows = conn.execute("SELECT feed_token FROM users WHERE login = ?", (calendar,))
            if not rows:
                raise KeyError(calendar)
            if rows[0][0]:
                return str(rows[0][0])
            return self._set_token(conn, calendar)

    def rotate_feed_token(self, calendar: str) -> str:
        with self.db.transaction() as conn:
            if not conn.execute("SELECT 1 FROM users WHERE login = ?", (calendar,)):
                raise KeyError(calendar)
            return self._set_token(conn, calendar)

    @staticmethod
    def _set_token(conn: Connection, calendar: str) -> str:
        token = secrets.token_urlsafe(24)  # 192 random bits
        conn.execute("UPDATE users SET feed_token = ? WHERE login = ?", (token, calendar))
        return token

    def calendar_for_feed_token(self, token: str) -> str | None:
        if not token or len(token) > 128:
            return None
        with self.db.snapshot() as conn:
            rows = conn.execute("SELECT login FROM users WHERE feed_token = ?", (token,))
        return str(rows[0][0]) if rows else None

    def close(self) -> None:
        self.db.close()
