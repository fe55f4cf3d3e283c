"""The store's write path, inside one write transaction: records become events (rendered once,
hashed, revisioned), each change gets a change-log sequence, and each calendar's compacted log
(``entries``) and index spans are updated; deletes leave tombstones; a replace-import is checked
against the safety valve before anything is written."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..errors import SafetyValveError
from ..ical import render_vevent
from ..records import ApplyOutcome, ApplyResult, EventRecord, stored_json
from ..recurrence import RecurrenceError, end_of, last_start
from ..timeutil import FOREVER, LONG_SPAN_S, instant, zone
from .db import Connection

_CHUNK = 500
#: Records written per round: a round is one change-log insert of many rows and one
#: executemany per table, not three statements a record (5 parameters a row: 500 per insert,
#: within every SQLite build's limit).
_ROUND = 100


def span(record: EventRecord) -> tuple[int, int, bool]:
    """Index span (epoch seconds) of a record, and whether it is indexed as long.

    A recurring series spans from its first start to the end of its last instance, or forever
    when it has no end (or none within ``recurrence.SCAN_LIMIT`` instances and no UNTIL).
    """
    tz = zone(record.timezone)
    start = instant(record.start, tz)
    end = instant(record.end, tz)
    if not record.rrule:
        return start, end, end - start > LONG_SPAN_S
    try:
        last = last_start(record.rrule, record.start, tz)
        if last is None:
            return start, FOREVER, True
        finish = int(end_of(last, record.start, record.end, tz))
    except (RecurrenceError, OverflowError):
        return start, FOREVER, True
    return start, min(FOREVER, max(end, finish)), True


def apply_batch(
    conn: Connection,
    records: Sequence[EventRecord],
    deletes: Sequence[str],
    now: float,
    *,
    replace_users: Collection[str] | None = None,
    max_delete_share: float | None = None,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ApplyResult:
    """The body of ``EventStore.apply`` inside the caller's write transaction."""
    ids = [r.id for r in records]
    existing = load(conn, [*ids, *deletes])
    deletes = list(deletes)
    if replace_users is not None:
        extra = replace_deletes(conn, replace_users, set(ids), max_delete_share, force)
        existing.update(load(conn, extra))
        deletes.extend(extra)
    outcomes: list[ApplyOutcome] = []
    seq = 0
    names: dict[str, str | None] = {}
    for first in range(0, len(records), _ROUND):
        changes: list[_Change] = []
        for record in records[first : first + _ROUND]:
            outcome, change = plan(conn, record, existing.get(record.id), now)
            outcomes.append(outcome)
            if change is not None:
                changes.append(change)
            for login in record.calendars:
                names.setdefault(login, None)
            if record.user_name:
                names[record.user] = record.user_name
        seq = max(seq, write(conn, changes, now))
        if progress is not None:
            progress(len(outcomes))
    for event_id in deletes:
        outcome, s = delete(conn, event_id, existing.get(event_id), now)
        outcomes.append(outcome)
        seq = max(seq, s)
    if progress is not None:
        progress(len(outcomes))
    touch_users(conn, names, now, seq)
    if not seq:
        seq = max_seq(conn)
    return ApplyResult(outcomes=tuple(outcomes), seq=seq)


def load(conn: Connection, ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    out: dict[str, tuple[Any, ...]] = {}
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
            "SELECT id, hash, revision, deleted, modified, calendars, created "
            f"FROM events WHERE id IN ({marks})",
            chunk,
        ):
            out[row[0]] = row
    return out


def replace_deletes(
    conn: Connection,
    users: Collection[str],
    keep: set[str],
    max_share: float | None,
    force: bool,
) -> list[str]:
    owned: list[str] = []
    users = sorted(users)
    for i in range(0, len(users), _CHUNK):
        chunk = users[i : i + _CHUNK]
        marks = ",".join("?" * len(chunk))
        owned.extend(
            row[0]
            for row in conn.execute(
                f"SELECT id FROM events WHERE deleted = 0 AND owner IN ({marks})", chunk
            )
        )
    extra = sorted(set(owned) - keep)
    if extra and not force and max_share is not None and len(extra) > max_share * len(owned):
        raise SafetyValveError(len(extra), len(owned), max_share)
    return extra


def log(conn: Connection, event_id: str, op: str, revision: int, cals: str, now: float) -> int:
    return conn.insert_returning(
        "INSERT INTO change_log (event_id, op, revision, calendars, at) "
        "VALUES (?, ?, ?, ?, ?) RETURNING seq",
        (event_id, op, revision, cals, now),
    )


@dataclass(frozen=True, slots=True)
class _Change:
    """A record that creates or updates its event: what ``write`` stores."""

    record: EventRecord
    old: tuple[Any, ...] | None
    revision: int
    created: float
    data: str
    digest: str


def plan(
    conn: Connection, record: EventRecord, old: tuple[Any, ...] | None, now: float
) -> tuple[ApplyOutcome, _Change | None]:
    """What ``record`` does to its stored event (``old``): nothing (stale, unchanged) or a
    change for ``write``."""
    data, digest = stored_json(record)
    live = old is not None and not old[3]
    if live and old is not None:
        stored_modified = old[4]
        if record.modified and stored_modified and record.modified.timestamp() < stored_modified:
            return ApplyOutcome(
                record.id, "stale", int(old[2]), "modified is older than the stored record"
            ), None
        if old[1] == digest:
            if record.modified and (
                not stored_modified or record.modified.timestamp() > stored_modified
            ):
                conn.execute(
                    "UPDATE events SET modified = ? WHERE id = ?",
                    (record.modified.timestamp(), record.id),
                )
            return ApplyOutcome(record.id, "unchanged", int(old[2])), None
    revision = int(old[2]) + 1 if old is not None else 1
    created = float(old[6]) if live and old is not None else now
    change = _Change(record, old if live else None, revision, created, data, digest)
    return ApplyOutcome(record.id, "updated" if live else "created", revision), change


def write(conn: Connection, changes: Sequence[_Change], now: float) -> int:
    """Store one round of changes: change-log entries, events (rendered), calendar entries.
    Returns the highest change-log sequence given (0 for none)."""
    if not changes:
        return 0
    marks = ",".join(["(?,?,?,?,?)"] * len(changes))
    params: list[Any] = []
    for c in changes:
        op = "update" if c.old is not None else "create"
        params += (c.record.id, op, c.revision, ",".join(c.record.calendars), now)
    # RETURNING does not promise the rows' order: each sequence is matched by its event id
    # (ids are unique in one apply).
    seqs: dict[str, int] = dict(
        conn.execute(
            "INSERT INTO change_log (event_id, op, revision, calendars, at) "
            f"VALUES {marks} RETURNING event_id, seq",
            params,
        )
    )
    updated = datetime.fromtimestamp(now, UTC)
    events: list[tuple[Any, ...]] = []
    entries: list[tuple[Any, ...]] = []
    for c in changes:
        record = c.record
        seq = seqs[record.id]
        calendars = record.calendars
        created = updated if c.created == now else datetime.fromtimestamp(c.created, UTC)
        ics = render_vevent(record, c.revision, created, updated)
        etag = hashlib.sha256(ics.encode()).hexdigest()[:32]
        modified = record.modified.timestamp() if record.modified else None
        events.append(
            (
                record.id,
                record.user,
                ",".join(calendars),
                record.timezone,
                c.data,
                ics,
                c.digest,
                etag,
                c.revision,
                modified,
                c.created,
                now,
                seq,
            )
        )
        start, end, long = span(record)
        entries.extend((cal, record.id, seq, 0, start, end, int(long)) for cal in calendars)
        if c.old is not None:
            entries.extend(
                (cal, record.id, seq, 1, start, end, int(long))
                for cal in c.old[5].split(",")
                if cal and cal not in calendars
            )
    conn.executemany(
        "INSERT INTO events (id, owner, calendars, tzid, data, ics, hash, etag, revision, "
        "deleted, modified, created, updated, seq) VALUES (?,?,?,?,?,?,?,?,?,0,?,?,?,?) "
        "ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, "
        "calendars = excluded.calendars, tzid = excluded.tzid, data = excluded.data, "
        "ics = excluded.ics, hash = excluded.hash, etag = excluded.etag, "
        "revision = excluded.revision, deleted = 0, modified = excluded.modified, "
        "created = excluded.created, updated = excluded.updated, seq = excluded.seq",
        events,
    )
    conn.executemany(
        "INSERT INTO entries (calendar, event_id, seq, deleted, range_start, range_end, long) "
        "VALUES (?,?,?,?,?,?,?) ON CONFLICT (calendar, event_id) DO UPDATE SET "
        "seq = excluded.seq, deleted = excluded.deleted, range_start = excluded.range_start, "
        "range_end = excluded.range_end, long = excluded.long",
        entries,
    )
    return max(seqs.values())


def delete(
    conn: Connection, event_id: str, old: tuple[Any, ...] | None, now: float
) -> tuple[ApplyOutcome, int]:
    if old is None or old[3]:
        return ApplyOutcome(event_id, "absent", int(old[2]) if old else 0), 0
    revision = int(old[2]) + 1
    seq = log(conn, event_id, "delete", revision, old[5], now)
    conn.execute(
        "UPDATE events SET deleted = 1, revision = ?, updated = ?, seq = ? WHERE id = ?",
        (revision, now, seq, event_id),
    )
    conn.execute(
        "UPDATE entries SET deleted = 1, seq = ? WHERE event_id = ? AND deleted = 0",
        (seq, event_id),
    )
    return ApplyOutcome(event_id, "deleted", revision), seq


def touch_users(conn: Connection, names: dict[str, str | None], now: float, seq: int) -> None:
    if not names:
        return
    conn.executemany(
        "INSERT INTO users (login, name, created) VALUES (?, ?, ?) ON CONFLICT (login) DO NOTHING",
        [(login, name, now) for login, name in names.items()],
    )
    renamed = [(name, seq, login, name) for login, name in names.items() if name]
    if renamed:
        conn.executemany(
            "UPDATE users SET name = ?, meta_seq = ? WHERE login = ? "
            "AND (name IS NULL OR name <> ?)",
            renamed,
        )


def max_seq(conn: Connection) -> int:
    rows = conn.execute("SELECT max(seq) FROM change_log")
    return int(rows[0][0] or 0)
