"""The event store's contract, on a real SQLite file."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from bridge.errors import SafetyValveError, UnknownSyncToken
from bridge.store.db import Database, SQLiteDatabase
from bridge.store.postgres import PostgresDatabase
from bridge.store.sql import SQLEventStore
from bridge.timeutil import zone
from tests.support import record

TZ = "America/Chicago"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SQLEventStore]:
    """The same contract suite on SQLite and on a real PostgreSQL server."""
    if request.param == "sqlite":
        db: Database = SQLiteDatabase(tmp_path / "bridge.sqlite3")
    else:
        server = request.getfixturevalue("postgres_server")
        db = PostgresDatabase(server.fresh_database(f"t{abs(hash(request.node.name))}"))
    s = SQLEventStore(db)
    yield s
    s.close()


def test_create_update_unchanged_delete_revive(store: SQLEventStore) -> None:
    assert store.apply([record("1")]).outcomes[0].result == "created"
    assert store.apply([record("1")]).outcomes[0].result == "unchanged"
    out = store.apply([record("1", title="Changed")]).outcomes[0]
    assert (out.result, out.revision) == ("updated", 2)
    stored = store.get("1")
    assert stored is not None and "SEQUENCE:1\r\n" in stored.ics and "SUMMARY:Changed" in stored.ics
    assert store.apply([], ["1"]).outcomes[0].result == "deleted"
    assert store.get("1") is None
    assert store.apply([], ["1"]).outcomes[0].result == "absent"
    again = store.apply([record("1")]).outcomes[0]
    # A revived event keeps counting revisions, so clients see a higher SEQUENCE.
    assert (again.result, again.revision) == ("created", 4)


def test_stale_push_is_ignored(store: SQLEventStore) -> None:
    store.apply([record("1", modified="2026-11-20T10:00")])
    out = store.apply([record("1", title="Old", modified="2026-11-19T10:00")]).outcomes[0]
    assert out.result == "stale"
    stored = store.get("1")
    assert stored is not None and "Job 1" in stored.ics


def test_change_log_per_calendar_and_attendee_removal(store: SQLEventStore) -> None:
    first = store.apply([record("1", attendees=["dana"]), record("2")])
    dana = store.calendar_state("dana")
    assert dana is not None and dana.seq == first.seq - 1
    store.apply([record("1")])  # dana no longer attends
    changes = store.changes_since("dana", dana.seq).changes
    assert [(c.event_id, c.deleted) for c in changes] == [("1", True)]
    chris = store.changes_since("chris", 0)
    assert sorted(c.event_id for c in chris.changes) == ["1", "2"]
    assert store.get_many("dana", ["1"]) == []


def test_incremental_changes_cost_only_the_changes(store: SQLEventStore) -> None:
    store.apply([record(str(i)) for i in range(500)])
    state = store.calendar_state("chris")
    assert state is not None
    store.apply([record("7", title="moved")], ["8"])
    delta = store.changes_since("chris", state.seq)
    assert [(c.event_id, c.deleted) for c in delta.changes] == [("7", False), ("8", True)]
    assert delta.seq > state.seq
    assert store.changes_since("chris", delta.seq).changes == ()
    with pytest.raises(UnknownSyncToken):
        store.changes_since("chris", delta.seq + 10)


def test_large_batch_gives_each_change_its_sequence_and_entries(store: SQLEventStore) -> None:
    """A batch is written in rounds of many rows (``writes._ROUND``); across rounds each
    change keeps its outcome, its own sequence and its calendars' entries."""
    n = 250
    store.apply([record(str(i), attendees=["dana"]) for i in range(n)])
    chris, dana = store.calendar_state("chris"), store.calendar_state("dana")
    assert chris is not None and dana is not None

    def changed(i: int) -> bool:
        return i % 2 == 0 or i % 3 == 0

    batch = [
        record(
            str(i),
            title="moved" if i % 3 == 0 else f"Job {i}",
            attendees=[] if i % 2 == 0 else ["dana"],
        )
        for i in range(n)
    ]
    result = store.apply([*batch, record("new")])
    assert [(o.id, o.result, o.revision) for o in result.outcomes] == [
        *(
            (str(i), "updated" if changed(i) else "unchanged", 2 if changed(i) else 1)
            for i in range(n)
        ),
        ("new", "created", 1),
    ]
    delta = store.changes_since("chris", chris.seq).changes
    assert sorted(c.event_id for c in delta) == sorted(
        [*(str(i) for i in range(n) if changed(i)), "new"]
    )
    assert len({c.seq for c in delta}) == len(delta) and max(c.seq for c in delta) == result.seq
    gone = {(c.event_id, c.deleted) for c in store.changes_since("dana", dana.seq).changes}
    assert gone == {(str(i), i % 2 == 0) for i in range(n) if changed(i)}
    moved = store.get("3")
    assert moved is not None and "SUMMARY:moved" in moved.ics and "SEQUENCE:1" in moved.ics


def test_range_queries_use_overlap_and_recurrence(store: SQLEventStore) -> None:
    store.apply(
        [
            record("in", start="2026-12-02T09:00", end="2026-12-02T10:00"),
            record("edge", start="2026-12-01T08:00", end="2026-12-01T09:00"),
            record("long", start="2026-11-01", end="2026-12-31"),
            record("weekly", start="2026-10-06T09:00", end="2026-10-06T10:00", rrule="FREQ=WEEKLY"),
            record(
                "ended",
                start="2026-01-06T09:00",
                end="2026-01-06T10:00",
                rrule="FREQ=WEEKLY;COUNT=3",
            ),
            record("later", start="2027-01-05T09:00", end="2027-01-05T10:00"),
        ]
    )
    tz = zone(TZ)
    found = {
        e.id
        for e in store.iter_range(
            "chris", datetime(2026, 12, 1, 9, tzinfo=tz), datetime(2026, 12, 8, tzinfo=tz)
        )
    }
    assert found == {"in", "long", "weekly"}


def test_replace_import_safety_valve(store: SQLEventStore) -> None:
    store.apply([record(str(i)) for i in range(10)] + [record("d1", user="dana")])
    with pytest.raises(SafetyValveError):
        store.apply([record("0")], replace_users={"chris"}, max_delete_share=0.25)
    assert store.get("5") is not None  # nothing changed
    result = store.apply(
        [record(str(i)) for i in range(8)], replace_users={"chris"}, max_delete_share=0.25
    )
    assert result.count("deleted") == 2 and store.get("9") is None
    assert store.get("d1") is not None  # other users untouched
    forced = store.apply([], replace_users={"chris"}, max_delete_share=0.25, force=True)
    assert forced.count("deleted") == 8


def test_feed_tokens_rotate(store: SQLEventStore) -> None:
    store.apply([record("1")])
    token = store.feed_token("chris")
    assert len(token) >= 22 and store.feed_token("chris") == token
    assert store.calendar_for_feed_token(token) == "chris"
    new = store.rotate_feed_token("chris")
    assert new != token and store.calendar_for_feed_token(token) is None
    assert store.calendar_for_feed_token(new) == "chris"


def test_survives_reopen_and_keeps_instance(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite3"
    s = SQLEventStore(SQLiteDatabase(path))
    s.apply([record("1", user_name="Chris Miller")])
    instance = s.instance
    s.close()
    s2 = SQLEventStore(SQLiteDatabase(path))
    assert s2.instance == instance and s2.get("1") is not None
    assert [(u.login, u.name) for u in s2.users()] == [("chris", "Chris Miller")]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    s2.close()


def _open_connections(store: SQLEventStore) -> int:
    db = store.db
    if isinstance(db, SQLiteDatabase):
        fds = Path("/proc/self/fd")
        return sum(1 for fd in fds.iterdir() if os.path.realpath(fd) == os.path.realpath(db.path))
    with db.snapshot() as conn:
        rows = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()", ()
        )
    return int(rows[0][0])


def test_connections_of_ended_threads_are_closed(store: SQLEventStore) -> None:
    # A server that starts a thread per request (stand-alone Radicale) must not keep one
    # connection per request it ever served.
    store.apply([record("1")])
    before = _open_connections(store)
    seen: list[object] = []
    for _ in range(40):
        worker = threading.Thread(target=lambda: seen.append(store.get("1")))
        worker.start()
        worker.join()
    assert len(seen) == 40 and all(event is not None for event in seen)
    # The last thread's connection goes when the next thread opens one; SQLite may also hold a
    # closed connection's descriptor back while another holds a lock on the file.
    assert _open_connections(store) <= before + 3
    # Live threads keep theirs.
    gate, done = threading.Event(), threading.Event()

    def hold() -> None:
        store.get("1")
        gate.set()
        done.wait(10)
        assert store.get("1") is not None  # still usable after others were swept

    holder = threading.Thread(target=hold)
    holder.start()
    gate.wait(10)
    for _ in range(5):
        t = threading.Thread(target=lambda: store.get("1"))
        t.start()
        t.join()
    done.set()
    holder.join()
