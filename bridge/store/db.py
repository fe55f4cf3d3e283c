"""Database access shared by every component that keeps state: connections, transactions,
versioned migrations.

SQL is written once, portable between SQLite and PostgreSQL, with ``?`` placeholders; the
PostgreSQL adapter rewrites them. A migration step is either portable SQL or a mapping from
dialect to SQL for the few statements (identity columns) that differ.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, Protocol

from ..errors import StoreError

logger = logging.getLogger(__name__)

Dialect = Literal["sqlite", "postgresql"]
Step = str | Mapping[str, str]
Row = tuple[Any, ...]


class Connection(Protocol):
    """What a transaction body may do."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def insert_returning(self, sql: str, params: Sequence[Any]) -> int:
        """Run an INSERT ... RETURNING <int column> and give back that value."""
        ...


class Database(Protocol):
    """A connection pool with transactions. Safe to share between threads."""

    dialect: Dialect

    def transaction(self) -> Any:
        """Context manager: a write transaction (serialised), committed on success."""
        ...

    def snapshot(self) -> Any:
        """Context manager: a consistent read view for this thread; nests."""
        ...

    def migrate(self, component: str, steps: Sequence[Step]) -> None:
        """Bring ``component``'s tables to ``len(steps)``, applying the missing steps in order."""
        ...

    def close(self) -> None: ...


class _SQLiteConn:
    __slots__ = ("raw",)

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.raw.execute(sql, params).fetchall()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.raw.executemany(sql, rows)

    def insert_returning(self, sql: str, params: Sequence[Any]) -> int:
        row = self.raw.execute(sql, params).fetchone()
        assert row is not None
        return int(row[0])


class _Slot:
    """One thread's connection and the lock held while it is in use, so ``close()`` from
    another thread never closes a connection under a running statement (a crash in sqlite3)."""

    __slots__ = ("lock", "owner", "raw")

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw
        self.lock = threading.RLock()
        self.owner = weakref.ref(threading.current_thread())

    def orphaned(self) -> bool:
        thread = self.owner()
        return thread is None or not thread.is_alive()

    def close(self, wait: float) -> bool:
        """Close the connection once no statement runs on it (waiting up to ``wait`` seconds);
        False if it stayed busy."""
        if not self.lock.acquire(timeout=wait):
            return False
        try:
            with contextlib.suppress(sqlite3.Error):
                self.raw.close()
        finally:
            self.lock.release()
        return True


def _create_private(path: Path) -> None:
    """The database file created 0600 before SQLite opens it (SQLite would use the umask)."""
    if not path.parent.is_dir():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError, PermissionError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


class SQLiteDatabase:
    """SQLite in WAL mode: one connection per thread, writers serialised by SQLite's lock.

    ``synchronous=FULL`` because an accepted push must survive a power cut, not only a crash.
    """

    #: How long ``close()`` waits for a thread to finish with its connection.
    CLOSE_GRACE_S = 10.0

    dialect: Dialect = "sqlite"

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_s: float = 30.0) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            _create_private(Path(self.path))
        self._busy_ms = int(busy_timeout_s * 1000)
        self._local = threading.local()
        self._all: list[_Slot] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._closed = False
        with self._lock:
            first = self._open()
        first.raw.execute("PRAGMA journal_mode=WAL")
        if self.path != ":memory:":
            # The database holds feed tokens: owner-only, with its -wal and -shm files (SQLite
            # gives them the database's mode; older ones may predate that). A read-only mount
            # is still usable.
            for name in (self.path, self.path + "-wal", self.path + "-shm"):
                with contextlib.suppress(OSError):
                    if stat.S_IMODE(os.stat(name).st_mode) & 0o077:
                        os.chmod(name, 0o600)

    def _open(self) -> _Slot:
        try:
            raw = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                timeout=self._busy_ms / 1000,
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {self.path}: {exc}") from exc
        raw.execute(f"PRAGMA busy_timeout={self._busy_ms}")
        raw.execute("PRAGMA synchronous=FULL")
        raw.execute("PRAGMA foreign_keys=ON")
        raw.execute("PRAGMA cache_size=-32000")
        slot = _Slot(raw)
        self._sweep()
        self._all.append(slot)
        self._local.slot = slot
        self._local.depth = 0
        return slot

    def _sweep(self) -> None:
        """Close the connections of threads that have ended (called with ``_lock`` held when a
        new thread opens one): a server with a thread per request, such as a stand-alone
        ``python -m radicale``, would otherwise keep one connection per request it served."""
        self._all = [slot for slot in self._all if not (slot.orphaned() and slot.close(0))]

    def _slot(self) -> _Slot:
        if self._closed:
            raise StoreError("the database is closed (the bridge is shutting down)")
        slot: _Slot | None = getattr(self._local, "slot", None)
        if slot is None:
            with self._lock:
                slot = self._open()
        return slot

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        slot = self._slot()
        raw = slot.raw
        if getattr(self._local, "depth", 0):
            raise StoreError("write transaction inside a read snapshot on the same thread")
        # One writer at a time inside this process; SQLite's own lock covers other processes.
        with slot.lock, self._write_lock:
            try:
                raw.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"database busy or unavailable: {exc}") from exc
            try:
                yield _SQLiteConn(raw)
            except BaseException:
                raw.execute("ROLLBACK")
                raise
            else:
                try:
                    raw.execute("COMMIT")
                except sqlite3.Error as exc:
                    raw.execute("ROLLBACK")
                    raise StoreError(f"commit failed: {exc}") from exc

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        slot = self._slot()
        raw = slot.raw
        depth: int = getattr(self._local, "depth", 0)
        with slot.lock:
            if depth == 0:
                raw.execute("BEGIN")
            self._local.depth = depth + 1
            try:
                yield _SQLiteConn(raw)
            finally:
                self._local.depth = depth
                if depth == 0:
                    raw.execute("COMMIT")

    def migrate(self, component: str, steps: Sequence[Step]) -> None:
        migrate(self, component, steps)

    def close(self) -> None:
        """Close every thread's connection once that thread is done with it; a connection still
        busy after ``CLOSE_GRACE_S`` is left to be freed with its thread rather than crashed."""
        self._closed = True
        with self._lock:
            for slot in self._all:
                if not slot.close(self.CLOSE_GRACE_S):
                    logger.warning("a database connection was still busy at shutdown")
            self._all.clear()
        self._local = threading.local()


def step_sql(step: Step, dialect: Dialect) -> str:
    return step if isinstance(step, str) else step[dialect]


def migrate(db: Database, component: str, steps: Sequence[Step]) -> None:
    """Versioned, idempotent schema migration for one component, safe when several processes
    start at once.

    Each step runs in its own write transaction, and the version is read inside it: a write
    transaction holds the database's one writer lock (SQLite's ``BEGIN IMMEDIATE``, PostgreSQL's
    advisory lock, both across processes), so when several processes start together one applies
    a step while the others wait on the lock and then find it done. A crash mid-way resumes at
    the right step.
    """
    while True:
        with db.transaction() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_versions "
                "(component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
            )
            rows = conn.execute(
                "SELECT version FROM schema_versions WHERE component = ?", (component,)
            )
            current = int(rows[0][0]) if rows else 0
            if current > len(steps):
                raise StoreError(
                    f"database schema of {component!r} is version {current}, newer than this "
                    f"program knows ({len(steps)}): upgrade ipoint-bridge"
                )
            if current == len(steps):
                return
            version = current + 1
            for statement in step_sql(steps[version - 1], db.dialect).split(";\n"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_versions (component, version) VALUES (?, ?) "
                "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                (component, version),
            )
        logger.info("migrated %s to schema version %d", component, version)


def open_database(backend: str, *, path: str | None = None, dsn: str | None = None) -> Database:
    """The configured database. PostgreSQL is imported only when asked for."""
    if backend == "sqlite":
        if not path:
            raise StoreError("sqlite backend needs a path")
        return SQLiteDatabase(path)
    if backend == "postgresql":
        from .postgres import PostgresDatabase

        if not dsn:
            raise StoreError("postgresql backend needs a dsn")
        return PostgresDatabase(dsn)
    raise StoreError(f"unknown store backend {backend!r}")


def now_ts() -> float:
    return time.time()


Clock = Callable[[], float]
