"""Leases with fencing tokens, on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.store.db import Database, SQLiteDatabase
from bridge.store.lease import GOOGLE_WRITER, LeaseLost, Leases
from bridge.store.postgres import PostgresDatabase
from bridge.store.sql import SQLEventStore

SECONDS = 0.5


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database: Database = SQLiteDatabase(tmp_path / "bridge.sqlite3")
    else:
        server = request.getfixturevalue("postgres_server")
        database = PostgresDatabase(server.fresh_database(f"lease{abs(hash(request.node.name))}"))
    SQLEventStore(database)  # migrates the store, leases included
    yield database
    database.close()


def test_one_holder_then_takeover_with_a_newer_token(db: Database) -> None:
    leases = Leases(db, seconds=SECONDS)
    first = leases.acquire(GOOGLE_WRITER, "a:1", "a:1-owner")
    assert first is not None and first.token == 1
    assert leases.acquire(GOOGLE_WRITER, "b:2", "b:2-owner") is None  # live: refused
    again = leases.acquire(GOOGLE_WRITER, "a:1", "a:1-owner")
    assert again is not None and again.token == 1  # the holder renews, same token
    time.sleep(SECONDS * 1.5)
    second = leases.acquire(GOOGLE_WRITER, "b:2", "b:2-owner")
    assert second is not None and second.token == 2 and second.holder == "b:2"
    current = leases.current(GOOGLE_WRITER)
    assert current is not None and current.holder == "b:2" and current.live
    with pytest.raises(LeaseLost):
        leases.renew(first)  # the stale holder learns it lost the lease


def test_a_stale_holders_write_is_rolled_back(db: Database) -> None:
    leases = Leases(db, seconds=SECONDS)
    stale = leases.acquire(GOOGLE_WRITER, "a:1", "a:1-owner")
    assert stale is not None
    time.sleep(SECONDS * 1.5)
    assert leases.acquire(GOOGLE_WRITER, "b:2", "b:2-owner") is not None
    with pytest.raises(LeaseLost), db.transaction() as conn:
        conn.execute("INSERT INTO meta (key, value) VALUES ('written', 'by the stale holder')")
        Leases.fence(conn, stale)
    with db.snapshot() as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'written'") == []


def test_two_processes_with_one_name_never_share_the_lease(db: Database) -> None:
    leases = Leases(db, seconds=60)
    assert leases.acquire(GOOGLE_WRITER, "shop", "first process") is not None
    assert leases.acquire(GOOGLE_WRITER, "shop", "second process") is None


def test_release_lets_another_take_over_at_once(db: Database) -> None:
    leases = Leases(db, seconds=60)
    held = leases.acquire(GOOGLE_WRITER, "a:1", "a:1-owner")
    assert held is not None
    leases.release(held)
    taken = leases.acquire(GOOGLE_WRITER, "b:2", "b:2-owner")
    assert taken is not None and taken.token == 2


def test_an_expired_lease_nobody_took_is_renewed(db: Database) -> None:
    leases = Leases(db, seconds=SECONDS)
    held = leases.acquire(GOOGLE_WRITER, "a:1", "a:1-owner")
    assert held is not None
    time.sleep(SECONDS * 1.5)
    renewed = leases.renew(held)
    assert renewed.token == held.token and renewed.live
