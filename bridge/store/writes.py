"""The store's write path, inside one write transaction: records become events (rendered once,
hashed, revisioned), each change gets a change-log sequence, and each calendar's compacted log
(``entries``) and index spans are updated; deletes leave tombstones; a replace-import is checked
against the safety valve before anything is written."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from ..errors import SafetyValveError
from ..ical import render_vevent
from ..records import ApplyOutcome, ApplyResult, EventRecord, stored_json
from ..recurrence import RecurrenceError, end_of, last_start
from ..timeutil import FOREVER, LONG_SPAN_S, instant, zone
from .db import Connection

_CHUNK = 500
_PROGRESS_EVERY = 200


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
    for record in records:
        outcome, s = write(conn, record, existing.get(record.id), now)
        outcomes.append(outcome)
        if progress is not None and len(outcomes) % _PROGRESS_EVERY == 0:
            progress(len(outcomes))
        seq = max(seq, s)
        for login in record.calendars:
            names.setdefault(login, None)
        if record.user_name:
            names[record.user] = record.user_name
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


def write(
    conn: Connection, record: EventRecord, old: tuple[Any, ...] | None, now: float
) -> tuple[ApplyOutcome, int]:
    data, digest = stored_json(record)
    live = old is not None and not old[3]
    if live and old is not None:
        stored_modified = old[4]
        if record.modified and stored_modified and record.modified.timestamp() < stored_modified:
            return ApplyOutcome(
                record.id, "stale", int(old[2]), "modified is older than the stored record"
            ), 0
        if old[1] == digest:
            if record.modified and (
                not stored_modified or record.modified.timestamp() > stored_modified
            ):
                conn.execute(
                    "UPDATE events SET modified = ? WHERE id = ?",
                    (record.modified.timestamp(), record.id),
                )
            return ApplyOutcome(record.id, "unchanged", int(old[2])), 0
    revision = int(old[2]) + 1 if old is not None else 1
    created = float(old[6]) if live and old is not None else now
    calendars = record.calendars
    cals = ",".join(calendars)
    seq = log(conn, record.id, "update" if live else "create", revision, cals, now)
    ics = render_vevent(
        record,
        revision,
        datetime.fromtimestamp(created, UTC),
        datetime.fromtimestamp(now, UTC),
    )
    etag = hashlib.sha256(ics.encode()).hexdigest()[:32]
    modified = record.modified.timestamp() if record.modified else None
    conn.execute(
        "INSERT INTO events (id, owner, calendars, tzid, data, ics, hash, etag, revision, "
        "deleted, modified, created, updated, seq) VALUES (?,?,?,?,?,?,?,?,?,0,?,?,?,?) "
        "ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, "
        "calendars = excluded.calendars, tzid = excluded.tzid, data = excluded.data, "
        "ics = excluded.ics, hash = excluded.hash, etag = excluded.etag, "
        "revision = excluded.revision, deleted = 0, modified = excluded.modified, "
        "created = excluded.created, updated = excluded.updated, seq = excluded.seq",
        (
            record.id,
            record.user,
            cals,
            record.timezone,
            data,
            ics,
            digest,
            etag,
            revision,
            modified,
            created,
            now,
            seq,
        ),
    )
    start, end, long = span(record)
    rows: list[tuple[Any, ...]] = [
        (cal, record.id, seq, 0, start, end, int(long)) for cal in calendars
    ]
    if live and old is not None:
        rows.extend(
            (cal, record.id, seq, 1, start, end, int(long))
            for cal in old[5].split(",")
            if cal and cal not in calendars
        )
    conn.executemany(
        "INSERT INTO entries (calendar, event_id, seq, deleted, range_start, range_end, long) "
        "VALUES (?,?,?,?,?,?,?) ON CONFLICT (calendar, event_id) DO UPDATE SET "
        "seq = excluded.seq, deleted = excluded.deleted, range_start = excluded.range_start, "
        "range_end = excluded.range_end, long = excluded.long",
        rows,
    )
    return ApplyOutcome(record.id, "updated" if live else "created", revision), seq


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
