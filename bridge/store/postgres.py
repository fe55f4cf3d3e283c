"""PostgreSQL behind the ``Database`` seam, for shops (or hosts) that outgrow one machine.

The store's SQL is shared with SQLite; this adapter rewrites ``?`` placeholders, gives every
thread its own connection (Radicale's threads and the web server's workers), serialises writers
with a transaction-scoped advisory lock (the store reads, then writes, inside one transaction,
as it does under SQLite's single-writer lock) and runs reads in REPEATABLE READ snapshots.
The same lock makes migrations safe when several processes start at once (``db.migrate``).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from ..errors import StoreError
from .db import Connection, Dialect, Row, Step, migrate

_WRITE_LOCK_KEY = 0x1B0A7D  # any constant shared by every bridge process on this database


def _sql(text: str) -> str:
    return text.replace("%", "%%").replace("?", "%s")


class _PGConn:
    __slots__ = ("raw",)

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.raw.cursor() as cur:
            cur.execute(_sql(sql), list(params))
            return [tuple(r) for r in cur.fetchall()] if cur.description else []

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        with self.raw.cursor() as cur:
            cur.executemany(_sql(sql), [list(r) for r in rows])

    def insert_returning(self, sql: str, params: Sequence[Any]) -> int:
        with self.raw.cursor() as cur:
            cur.execute(_sql(sql), list(params))
            row = cur.fetchone()
        assert row is not None
        return int(row[0])


class PostgresDatabase:
    """One connection per thread to the configured PostgreSQL database."""

    dialect: Dialect = "postgresql"

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._local = threading.local()
        self._all: list[tuple[psycopg.Connection[Any], weakref.ref[threading.Thread]]] = []
        self._lock = threading.Lock()
        self._conn()

    def _conn(self) -> psycopg.Connection[Any]:
        raw: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if raw is None or raw.closed:
            try:
                raw = psycopg.connect(self.dsn, autocommit=True)
            except psycopg.Error as exc:
                # The DSN may hold a password: name the failure, not the DSN.
                raise StoreError(
                    f"cannot connect to PostgreSQL: {exc.__class__.__name__}: "
                    f"{str(exc).splitlines()[0] if str(exc) else ''}"
                ) from exc
            with self._lock:
                self._sweep()
                self._all.append((raw, weakref.ref(threading.current_thread())))
            self._local.conn = raw
            self._local.depth = 0
        return raw

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        raw = self._conn()
        if getattr(self._local, "depth", 0):
            raise StoreError("write transaction inside a read snapshot on the same thread")
        try:
            with raw.transaction():
                raw.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITE_LOCK_KEY,))
                yield _PGConn(raw)
        except psycopg.Error as exc:
            raise StoreError(f"database error: {exc.__class__.__name__}: {exc}") from exc

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        raw = self._conn()
        depth: int = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield _PGConn(raw)
            finally:
                self._local.depth = depth
            return
        self._local.depth = 1
        try:
            raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield _PGConn(raw)
            finally:
                raw.execute("COMMIT")
        except psycopg.Error as exc:
            raise StoreError(f"database error: {exc.__class__.__name__}: {exc}") from exc
        finally:
            self._local.depth = 0

    def migrate(self, component: str, steps: Sequence[Step]) -> None:
        migrate(self, component, steps)

    def _sweep(self) -> None:
        """Close the connections of threads that have ended (with ``_lock`` held): a server
        with a thread per request would otherwise keep one connection per request served."""
        kept = []
        for raw, owner in self._all:
            thread = owner()
            if thread is None or not thread.is_alive():
                raw.close()
            else:
                kept.append((raw, owner))
        self._all = kept

    def close(self) -> None:
        with self._lock:
            for raw, _ in self._all:
                raw.close()
            self._all.clear()
        self._local = threading.local()
