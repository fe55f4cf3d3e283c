"""Versioned tables of the mirror (component ``mirror``), in the bridge's database.

- ``mirror_calendars``: one row per mirrored calendar (``user:<login>`` or ``source:<name>``):
  its Google calendar id (kept once created), the source's sync position (CalDAV sync-token and
  ctag, ICS ETag), the ACL last applied, the last error in plain words.
- ``mirror_items``: per source item (CalDAV href, or ``uid:<UID>`` of an ICS feed) its ETag and
  the hash of its normalised iCalendar, so an unchanged item is not even mapped again.
- ``mirror_events``: per Google event the wanted state (``want``, ``body``, ``want_hash``) and
  the state Google confirmed (``done_hash``, ``etag``, ``remote``). ``dirty`` is
  ``want_hash <> done_hash``: the queue is exactly the dirty rows, so it survives restarts,
  quota pauses and lost sign-ins.
- ``mirror_accounts``: per Google account a write pause (quotaExceeded) and the authorization
  state.
"""

from __future__ import annotations

from ..store.db import Step

COMPONENT = "mirror"

STEPS: tuple[Step, ...] = (
    """
CREATE TABLE mirror_calendars (
    key TEXT PRIMARY KEY,
    google_id TEXT,
    summary TEXT,
    time_zone TEXT,
    source_url TEXT,
    source_kind TEXT,
    sync_token TEXT,
    ctag TEXT,
    etag TEXT,
    acl_hash TEXT,
    acl TEXT,
    public_url TEXT,
    last_poll DOUBLE PRECISION,
    last_push DOUBLE PRECISION,
    last_reconcile DOUBLE PRECISION,
    last_error TEXT,
    error_at DOUBLE PRECISION
);
CREATE TABLE mirror_items (
    cal_key TEXT NOT NULL,
    href TEXT NOT NULL,
    etag TEXT,
    hash TEXT,
    PRIMARY KEY (cal_key, href)
);
CREATE TABLE mirror_events (
    cal_key TEXT NOT NULL,
    gid TEXT NOT NULL,
    href TEXT NOT NULL,
    series TEXT,
    want TEXT NOT NULL,
    body TEXT,
    want_hash TEXT NOT NULL,
    end_ts BIGINT NOT NULL,
    done_hash TEXT,
    etag TEXT,
    remote TEXT NOT NULL DEFAULT 'none',
    dirty INTEGER NOT NULL,
    failed_hash TEXT,
    error TEXT,
    changed_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (cal_key, gid)
);
CREATE INDEX mirror_events_href ON mirror_events (cal_key, href);
CREATE INDEX mirror_events_dirty ON mirror_events (dirty, changed_at);
CREATE TABLE mirror_accounts (
    account TEXT PRIMARY KEY,
    paused_until DOUBLE PRECISION NOT NULL DEFAULT 0,
    auth_state TEXT NOT NULL DEFAULT 'ok',
    reason TEXT,
    signature TEXT,
    updated DOUBLE PRECISION NOT NULL
)""",
)
