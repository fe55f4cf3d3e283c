"""Versioned schema of the event store (component ``store``).

``entries`` is the per-calendar compacted change log: one row per (calendar, event) holding the
sequence of its latest change and whether that change removed it. An incremental sync reads
``seq > token`` on the (calendar, seq) index, so it costs the number of changes; ``change_log``
keeps every insert, update and delete in order for audit and the mirror's lag figures.
"""

from __future__ import annotations

from .db import Step

COMPONENT = "store"

# The only difference between the dialects: how the change log's sequence is generated.
# SQLite's AUTOINCREMENT (not plain rowid) never reuses a number, so sync positions only grow.
_IDENTITY = {
    "sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT",
    "postgresql": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
}

_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users (
    login TEXT PRIMARY KEY,
    name TEXT,
    feed_token TEXT UNIQUE,
    meta_seq BIGINT NOT NULL DEFAULT 0,
    created DOUBLE PRECISION NOT NULL
);
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    calendars TEXT NOT NULL,
    tzid TEXT NOT NULL,
    data TEXT NOT NULL,
    ics TEXT NOT NULL,
    hash TEXT NOT NULL,
    etag TEXT NOT NULL,
    revision BIGINT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    modified DOUBLE PRECISION,
    created DOUBLE PRECISION NOT NULL,
    updated DOUBLE PRECISION NOT NULL,
    seq BIGINT NOT NULL
);
CREATE INDEX events_owner ON events (owner, deleted);
CREATE TABLE entries (
    calendar TEXT NOT NULL,
    event_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    deleted INTEGER NOT NULL,
    range_start BIGINT NOT NULL,
    range_end BIGINT NOT NULL,
    long INTEGER NOT NULL,
    PRIMARY KEY (calendar, event_id)
);
CREATE INDEX entries_seq ON entries (calendar, seq);
CREATE INDEX entries_range ON entries (calendar, deleted, long, range_start);
CREATE TABLE change_log (
    seq {identity},
    event_id TEXT NOT NULL,
    op TEXT NOT NULL,
    revision BIGINT NOT NULL,
    calendars TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL
)"""

# Leases (``lease.py``): one holder at a time for a named job, with a fencing token.
_V2 = """
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    owner TEXT NOT NULL,
    token BIGINT NOT NULL,
    expires DOUBLE PRECISION NOT NULL,
    acquired DOUBLE PRECISION NOT NULL
)"""

STEPS: tuple[Step, ...] = ({d: _V1.format(identity=i) for d, i in _IDENTITY.items()}, _V2)
