"""Several processes opening one fresh store at the same moment: one migrates, the others wait
and find the schema done (today's ``serve`` x2 died with ``DuplicateTable`` half the time)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from bridge.store.db import Database, SQLiteDatabase
from bridge.store.postgres import PostgresDatabase
from tests import pg

PROCESSES = 6

# Each child imports everything first, says so, then spins on the go file so that all of them
# reach the migration within a few milliseconds of each other.
CHILD = """
import sys, time
from pathlib import Path
from bridge.store.db import open_database
from bridge.store.sql import SQLEventStore
from bridge.mirror.status import StatusDB
backend, where, go = sys.argv[1:4]
print("waiting", flush=True)
deadline = time.monotonic() + 60
while not Path(go).exists():
    if time.monotonic() > deadline:
        sys.exit("no go")
    time.sleep(0.002)
db = open_database(backend, path=where if backend == "sqlite" else None,
                   dsn=where if backend == "postgresql" else None)
store = SQLEventStore(db)
StatusDB(db)
print("instance", store.instance, flush=True)
db.close()
"""


def _start_together(backend: str, where: str, tmp_path: Path) -> list[str]:
    go = tmp_path / "go"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, backend, where, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "waiting"
        go.touch()
        outputs = [child.communicate(timeout=120) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    for child, (_out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
    return [out.strip() for out, _ in outputs]


def _versions(db: Database) -> dict[str, int]:
    with db.snapshot() as conn:
        rows = conn.execute("SELECT component, version FROM schema_versions")
    return {str(c): int(v) for c, v in rows}


def _check(lines: list[str], db: Database) -> None:
    # Every process saw the same store (one instance id: created once) and the schema is whole.
    assert len(set(lines)) == 1 and lines[0].startswith("instance "), lines
    from bridge.mirror import schema as mirror_schema
    from bridge.store import schema as store_schema

    assert _versions(db) == {
        "store": len(store_schema.STEPS),
        "mirror": len(mirror_schema.STEPS),
    }


@pytest.mark.parametrize("attempt", range(3))
def test_processes_migrating_one_fresh_postgresql_at_once(
    attempt: int, tmp_path: Path, postgres_server: pg.PostgresServer
) -> None:
    dsn = postgres_server.fresh_database(f"migrate_race_{attempt}_{int(time.time())}")
    lines = _start_together("postgresql", dsn, tmp_path)
    db = PostgresDatabase(dsn)
    try:
        _check(lines, db)
    finally:
        db.close()


def test_processes_migrating_one_fresh_sqlite_file_at_once(tmp_path: Path) -> None:
    path = tmp_path / "bridge.sqlite3"
    lines = _start_together("sqlite", str(path), tmp_path)
    db = SQLiteDatabase(path)
    try:
        _check(lines, db)
    finally:
        db.close()
