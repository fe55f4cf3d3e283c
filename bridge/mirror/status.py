"""The mirror's status database: every read and write of its tables (``schema``) goes here.

Writes that follow a Google call happen right after it, one transaction per batch, so a kill
at any moment loses at most the knowledge of calls whose answers were not yet recorded; those
calls are safe to repeat (deterministic ids turn a repeated insert into a 409, then an update).

Every write transaction first runs ``fence`` (set by ``writer.GoogleWriter``): when another
instance has taken the Google writer's lease over, it raises ``LeaseLost`` and the transaction
is rolled back, so a stale writer never overwrites what the new one relies on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from ..store.db import Connection, Database
from . import schema
from .plan import DELETED, EventRow, Known, Remote, SourcePlan, Want
from .sources import SourceKind

AuthState = Literal["ok", "not_authorized"]
"""Whether Google writes may be tried: ``not_authorized`` until the sign-in changes."""

_CHUNK = 400
ACCOUNT = "google"
CAL_COLUMNS = frozenset(
    {
        "google_id",
        "summary",
        "time_zone",
        "source_url",
        "source_kind",
        "sync_token",
        "ctag",
        "etag",
        "acl_hash",
        "acl",
        "public_url",
        "last_poll",
        "last_push",
        "last_reconcile",
        "last_error",
        "error_at",
    }
)


@dataclass(frozen=True, slots=True)
class CalendarRow:
    key: str
    google_id: str | None = None
    summary: str | None = None
    time_zone: str | None = None
    source_url: str | None = None
    source_kind: SourceKind | None = None
    sync_token: str | None = None
    ctag: str | None = None
    etag: str | None = None
    acl_hash: str | None = None
    acl: str | None = None
    public_url: str | None = None
    last_poll: float | None = None
    last_push: float | None = None
    last_reconcile: float | None = None
    last_error: str | None = None
    error_at: float | None = None

    def acl_rules(self) -> list[dict[str, Any]]:
        return list(json.loads(self.acl)) if self.acl else []


_CAL_SELECT = "SELECT key, " + ", ".join(
    f.name for f in CalendarRow.__dataclass_fields__.values() if f.name != "key"
)


@dataclass(frozen=True, slots=True)
class AccountRow:
    paused_until: float = 0.0
    auth_state: AuthState = "ok"
    reason: str | None = None
    signature: str | None = None


@dataclass(frozen=True, slots=True)
class RowUpdate:
    """What one Google answer taught about one row. ``done_hash`` set: Google now has that
    state. ``forget``: Google does not have the event after all (404 on update)."""

    cal_key: str
    gid: str
    done_hash: str | None = None
    etag: str | None = None
    remote: Remote | None = None
    failed_hash: str | None = None
    error: str | None = None
    forget: bool = False


@dataclass(frozen=True, slots=True)
class Pending:
    """Queue figures of one calendar."""

    pending: int = 0
    rejected: int = 0
    oldest: float | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class GoogleView:
    """What reconcile needs of a row."""

    gid: str
    href: str
    series: str | None
    want: Want
    etag: str | None
    remote: Remote
    clean: bool


_PLANNABLE = (
    "e.dirty = 1 AND (e.failed_hash IS NULL OR e.failed_hash <> e.want_hash) "
    "AND (e.series IS NULL OR NOT EXISTS (SELECT 1 FROM mirror_events m "
    "WHERE m.cal_key = e.cal_key AND m.gid = e.series AND m.want <> ? "
    "AND (m.done_hash IS NULL OR m.done_hash <> m.want_hash "
    "OR m.remote <> 'present') "
    "AND (m.failed_hash IS NULL OR m.failed_hash <> m.want_hash))) "
)
"""Dirty rows worth planning (one ``?``: the ``DELETED`` want): Google did not refuse their
current content, and their series, if any, is settled."""


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


class StatusDB:
    """The mirror's tables over the bridge's ``Database`` (SQLite or PostgreSQL)."""

    def __init__(self, db: Database, *, clock: Any = time.time) -> None:
        self.db = db
        self._clock = clock
        self.fence: Callable[[Connection], None] | None = None
        """Called first in every write transaction; raises to refuse the write."""
        db.migrate(schema.COMPONENT, schema.STEPS)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.db.transaction() as conn:
            if self.fence is not None:
                self.fence(conn)
            yield conn

    # ------------------------------------------------------------------ calendars

    def calendars(self) -> list[CalendarRow]:
        with self.db.snapshot() as conn:
            rows = conn.execute(_CAL_SELECT + " FROM mirror_calendars ORDER BY key")
        return [CalendarRow(*r) for r in rows]

    def calendar(self, key: str) -> CalendarRow | None:
        with self.db.snapshot() as conn:
            rows = conn.execute(_CAL_SELECT + " FROM mirror_calendars WHERE key = ?", (key,))
        return CalendarRow(*rows[0]) if rows else None

    def set_calendar(self, key: str, **fields: Any) -> None:
        with self._write() as conn:
            self._set_calendar(conn, key, fields)

    @staticmethod
    def _set_calendar(conn: Connection, key: str, fields: dict[str, Any]) -> None:
        bad = set(fields) - CAL_COLUMNS
        if bad:
            raise ValueError(f"unknown calendar columns {sorted(bad)}")
        conn.execute(
            "INSERT INTO mirror_calendars (key) VALUES (?) ON CONFLICT (key) DO NOTHING", (key,)
        )
        if fields:
            sets = ", ".join(f"{name} = ?" for name in fields)
            conn.execute(
                f"UPDATE mirror_calendars SET {sets} WHERE key = ?", (*fields.values(), key)
            )

    def reset_calendar(self, key: str) -> None:
        """The Google calendar vanished: forget it and everything it held."""
        with self._write() as conn:
            conn.execute(
                "UPDATE mirror_calendars SET google_id = NULL, acl_hash = NULL, acl = NULL, "
                "public_url = NULL WHERE key = ?",
                (key,),
            )
            conn.execute(
                "UPDATE mirror_events SET done_hash = NULL, etag = NULL, remote = 'none', "
                "dirty = CASE WHEN want = ? THEN 0 ELSE 1 END WHERE cal_key = ?",
                (DELETED, key),
            )
            # Deleted events of a vanished calendar are gone with it.
            conn.execute(
                "UPDATE mirror_events SET done_hash = want_hash, remote = 'gone' "
                "WHERE cal_key = ? AND want = ?",
                (key, DELETED),
            )

    # ------------------------------------------------------------------ source side

    def known(self, key: str, hrefs: Collection[str] | None = None) -> dict[str, Known]:
        """Rows of ``key`` (only those of ``hrefs`` when given), by Google id."""
        sql = "SELECT gid, href, series, want, want_hash FROM mirror_events WHERE cal_key = ?"
        out: dict[str, Known] = {}
        with self.db.snapshot() as conn:
            if hrefs is None:
                for r in conn.execute(sql, (key,)):
                    out[r[0]] = Known(*r)
                return out
            for chunk in _chunks(sorted(hrefs)):
                marks = ",".join("?" * len(chunk))
                for r in conn.execute(f"{sql} AND href IN ({marks})", (key, *chunk)):
                    out[r[0]] = Known(*r)
            # Instances of the series in these items, wherever they were recorded.
            series = [k.gid for k in out.values() if k.series is None]
            for chunk in _chunks(series):
                marks = ",".join("?" * len(chunk))
                for r in conn.execute(f"{sql} AND series IN ({marks})", (key, *chunk)):
                    out.setdefault(r[0], Known(*r))
        return out

    def items(
        self, key: str, hrefs: Collection[str] | None = None
    ) -> dict[str, tuple[str | None, str]]:
        """(etag, item hash) of remembered source items."""
        sql = "SELECT href, etag, hash FROM mirror_items WHERE cal_key = ?"
        out: dict[str, tuple[str | None, str]] = {}
        with self.db.snapshot() as conn:
            if hrefs is None:
                rows = conn.execute(sql, (key,))
            else:
                rows = []
                for chunk in _chunks(sorted(hrefs)):
                    marks = ",".join("?" * len(chunk))
                    rows.extend(conn.execute(f"{sql} AND href IN ({marks})", (key, *chunk)))
        for href, etag, h in rows:
            out[href] = (etag, h or "")
        return out

    def apply_source(self, key: str, plan: SourcePlan, position: dict[str, Any]) -> None:
        """Record a source read: new wanted states, remembered items and the new sync position
        (``sync_token``/``ctag``/``etag``), all in one transaction, so a crash never stores a
        position without the changes that led to it."""
        now = self._clock()
        with self._write() as conn:
            for w in plan.writes:
                conn.execute(
                    "INSERT INTO mirror_events (cal_key, gid, href, series, want, body, "
                    "want_hash, end_ts, dirty, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?) "
                    "ON CONFLICT (cal_key, gid) DO UPDATE SET href = excluded.href, "
                    "series = excluded.series, want = excluded.want, body = excluded.body, "
                    "want_hash = excluded.want_hash, end_ts = excluded.end_ts, "
                    "changed_at = excluded.changed_at, failed_hash = NULL, error = NULL, "
                    "dirty = CASE WHEN mirror_events.done_hash = excluded.want_hash "
                    "THEN 0 ELSE 1 END",
                    (key, w.gid, w.href, w.series, w.want, w.body, w.want_hash, w.end_ts, now),
                )
            for chunk in _chunks(list(plan.redo)):
                marks = ",".join("?" * len(chunk))
                conn.execute(
                    "UPDATE mirror_events SET done_hash = NULL, dirty = 1, changed_at = ? "
                    f"WHERE cal_key = ? AND gid IN ({marks}) AND want <> ?",
                    (now, key, *chunk, DELETED),
                )
            conn.executemany(
                "INSERT INTO mirror_items (cal_key, href, etag, hash) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (cal_key, href) DO UPDATE SET etag = excluded.etag, "
                "hash = excluded.hash",
                [(key, href, etag, h) for href, etag, h in plan.items],
            )
            conn.executemany(
                "DELETE FROM mirror_items WHERE cal_key = ? AND href = ?",
                [(key, href) for href in plan.drop_items],
            )
            self._set_calendar(conn, key, {**position, "last_poll": now})

    # ------------------------------------------------------------------ push side

    def dirty(self, limit: int, exclude: Collection[str] = ()) -> list[EventRow]:
        """Dirty rows worth planning, newest changes first, series before their instances;
        rows Google refused for their current content, and instances whose series is not
        settled yet, are left out."""
        excl = sorted(exclude)
        marks = ",".join("?" * len(excl))
        sql = (
            "SELECT e.cal_key, e.gid, e.series, e.want, e.body, e.want_hash, e.done_hash, "
            "e.remote FROM mirror_events e WHERE "
            + _PLANNABLE
            + (f"AND e.cal_key NOT IN ({marks}) " if excl else "")
            + "ORDER BY CASE WHEN e.series IS NULL THEN 0 ELSE 1 END, e.changed_at DESC "
            "LIMIT ?"
        )
        with self.db.snapshot() as conn:
            rows = conn.execute(sql, (DELETED, *excl, limit))
        return [EventRow(*r) for r in rows]

    def dirty_calendars(self) -> set[str]:
        """The calendars that have rows ``dirty`` would plan."""
        sql = "SELECT DISTINCT e.cal_key FROM mirror_events e WHERE " + _PLANNABLE
        with self.db.snapshot() as conn:
            return {r[0] for r in conn.execute(sql, (DELETED,))}

    def series_rows(self, pairs: Collection[tuple[str, str]]) -> dict[tuple[str, str], EventRow]:
        out: dict[tuple[str, str], EventRow] = {}
        with self.db.snapshot() as conn:
            for cal_key, gid in sorted(pairs):
                rows = conn.execute(
                    "SELECT cal_key, gid, series, want, body, want_hash, done_hash, remote "
                    "FROM mirror_events WHERE cal_key = ? AND gid = ?",
                    (cal_key, gid),
                )
                if rows:
                    out[(cal_key, gid)] = EventRow(*rows[0])
        return out

    def record(self, updates: Sequence[RowUpdate]) -> None:
        """Write what a batch of Google answers taught, in one transaction."""
        if not updates:
            return
        with self._write() as conn:
            for u in updates:
                if u.forget:
                    conn.execute(
                        "UPDATE mirror_events SET done_hash = NULL, etag = NULL, "
                        "remote = 'none', dirty = 1, error = ? WHERE cal_key = ? AND gid = ?",
                        (u.error, u.cal_key, u.gid),
                    )
                elif u.done_hash is not None:
                    conn.execute(
                        "UPDATE mirror_events SET done_hash = ?, etag = COALESCE(?, etag), "
                        "remote = COALESCE(?, remote), error = NULL, failed_hash = NULL, "
                        "dirty = CASE WHEN want_hash = ? THEN 0 ELSE 1 END "
                        "WHERE cal_key = ? AND gid = ?",
                        (u.done_hash, u.etag, u.remote, u.done_hash, u.cal_key, u.gid),
                    )
                else:
                    conn.execute(
                        "UPDATE mirror_events SET error = ?, "
                        "failed_hash = COALESCE(?, failed_hash), "
                        "remote = COALESCE(?, remote) WHERE cal_key = ? AND gid = ?",
                        (u.error, u.failed_hash, u.remote, u.cal_key, u.gid),
                    )

    def redo(self, key: str | None = None, *, ending_after: float | None = None) -> int:
        """Mark rows to be sent again (Re-Push): all of ``key`` (or every calendar), or only
        those ending after ``ending_after``. Returns how many rows became dirty."""
        where = ["want <> ?"]
        params: list[Any] = [DELETED]
        if key is not None:
            where.append("cal_key = ?")
            params.append(key)
        if ending_after is not None:
            where.append("end_ts >= ?")
            params.append(int(ending_after))
        cond = " AND ".join(where)
        with self._write() as conn:
            count = conn.execute(f"SELECT COUNT(*) FROM mirror_events WHERE {cond}", params)
            conn.execute(
                "UPDATE mirror_events SET done_hash = NULL, dirty = 1, failed_hash = NULL, "
                f"error = NULL WHERE {cond}",
                params,
            )
        return int(count[0][0])

    def mark(self, key: str, gids: Collection[str], *, remote: Remote | None = None) -> None:
        """Mark rows dirty (reconcile found them edited or deleted by hand)."""
        with self._write() as conn:
            for chunk in _chunks(sorted(gids)):
                marks = ",".join("?" * len(chunk))
                conn.execute(
                    "UPDATE mirror_events SET done_hash = NULL, dirty = 1, failed_hash = NULL, "
                    f"remote = COALESCE(?, remote) WHERE cal_key = ? AND gid IN ({marks})",
                    (remote, key, *chunk),
                )

    def add_reverts(self, key: str, rows: Sequence[tuple[str, str, str]]) -> None:
        """Instances edited by hand in Google that the source does not override: (gid, series,
        href) rows that put them back to the series' content."""
        now = self._clock()
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO mirror_events (cal_key, gid, href, series, want, body, want_hash, "
                "end_ts, remote, dirty, changed_at) VALUES (?, ?, ?, ?, 'revert', NULL, "
                "'revert', 0, 'present', 1, ?) ON CONFLICT (cal_key, gid) DO UPDATE SET "
                "done_hash = NULL, dirty = 1",
                [(key, gid, href, series, now) for gid, series, href in rows],
            )

    def google_view(self, key: str) -> dict[str, GoogleView]:
        with self.db.snapshot() as conn:
            rows = conn.execute(
                "SELECT gid, href, series, want, etag, remote, "
                "CASE WHEN done_hash = want_hash THEN 1 ELSE 0 END "
                "FROM mirror_events WHERE cal_key = ?",
                (key,),
            )
        return {r[0]: GoogleView(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in rows}

    # ------------------------------------------------------------------ reporting

    def pending(self) -> dict[str, Pending]:
        """Queue figures per calendar (only calendars with something pending)."""
        with self.db.snapshot() as conn:
            rows = conn.execute(
                "SELECT cal_key, SUM(CASE WHEN failed_hash = want_hash THEN 0 ELSE 1 END), "
                "SUM(CASE WHEN failed_hash = want_hash THEN 1 ELSE 0 END), MIN(changed_at), "
                "MAX(error) FROM mirror_events WHERE dirty = 1 GROUP BY cal_key"
            )
        return {r[0]: Pending(int(r[1] or 0), int(r[2] or 0), r[3], r[4]) for r in rows}

    def rejected(self, key: str, limit: int = 5) -> list[tuple[str, str]]:
        """(Google id, Google's reason) of events Google refused for their current content."""
        with self.db.snapshot() as conn:
            rows = conn.execute(
                "SELECT gid, error FROM mirror_events WHERE cal_key = ? AND dirty = 1 "
                "AND failed_hash = want_hash ORDER BY gid LIMIT ?",
                (key, limit),
            )
        return [(str(r[0]), str(r[1] or "")) for r in rows]

    def event_count(self, key: str) -> int:
        with self.db.snapshot() as conn:
            rows = conn.execute(
                "SELECT COUNT(*) FROM mirror_events WHERE cal_key = ? AND want <> ?",
                (key, DELETED),
            )
        return int(rows[0][0])

    # ------------------------------------------------------------------ account

    def account(self) -> AccountRow:
        with self.db.snapshot() as conn:
            rows = conn.execute(
                "SELECT paused_until, auth_state, reason, signature FROM mirror_accounts "
                "WHERE account = ?",
                (ACCOUNT,),
            )
        return (
            AccountRow(float(rows[0][0]), rows[0][1], rows[0][2], rows[0][3])
            if rows
            else AccountRow()
        )

    def set_account(self, row: AccountRow) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO mirror_accounts (account, paused_until, auth_state, reason, "
                "signature, updated) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account) DO UPDATE "
                "SET paused_until = excluded.paused_until, auth_state = excluded.auth_state, "
                "reason = excluded.reason, signature = excluded.signature, "
                "updated = excluded.updated",
                (
                    ACCOUNT,
                    row.paused_until,
                    row.auth_state,
                    row.reason,
                    row.signature,
                    self._clock(),
                ),
            )
