"""Versioned tables of the admin page (component ``admin``), in the bridge's database, so every
instance behind a load balancer sees the same sessions, sign-ins, login counts and jobs.

- ``admin_sessions``: per browser session the SHA-256 of its cookie value (a copy of the
  database does not sign anyone in), its CSRF token, who signed in, pending flash messages.
- ``admin_flows``: Google sign-ins in progress (OAuth ``state``, PKCE verifier), single use.
- ``admin_login_attempts``: sign-in attempts per client address, counted before the check.
- ``admin_jobs``: Re-Push and Reconcile, queued by any instance, run by the Google writer.
"""

from __future__ import annotations

from ...store.db import Step

COMPONENT = "admin"

STEPS: tuple[Step, ...] = (
    """
CREATE TABLE admin_sessions (
    id_hash TEXT PRIMARY KEY,
    csrf TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    seen DOUBLE PRECISION NOT NULL,
    username TEXT NOT NULL,
    flashes TEXT NOT NULL,
    manual_url TEXT NOT NULL
);
CREATE INDEX admin_sessions_seen ON admin_sessions (username, seen);
CREATE TABLE admin_flows (
    state TEXT PRIMARY KEY,
    session_hash TEXT NOT NULL,
    url TEXT NOT NULL,
    verifier TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    started DOUBLE PRECISION NOT NULL,
    used DOUBLE PRECISION
);
CREATE TABLE admin_login_attempts (
    client TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL
);
CREATE INDEX admin_login_attempts_client ON admin_login_attempts (client, at);
CREATE INDEX admin_login_attempts_at ON admin_login_attempts (at);
CREATE TABLE admin_jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    queued DOUBLE PRECISION NOT NULL,
    runner TEXT NOT NULL DEFAULT '',
    heartbeat DOUBLE PRECISION NOT NULL,
    done BIGINT NOT NULL DEFAULT 0,
    total BIGINT NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    finished DOUBLE PRECISION,
    summary TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX admin_jobs_queued ON admin_jobs (state, queued)""",
)
