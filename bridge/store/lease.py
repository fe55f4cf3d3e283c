"""Leases in the store: one holder at a time for a named job (the Google writer), with fencing.

A lease row holds the holder's name (shown to people), a random owner id (the process: two
processes given one name never share a lease), an expiry and a fencing token that grows by one
at every change of holder. The holder renews it well before it expires; another process takes it
over only once it has expired, with the next token. Whoever writes on the lease's behalf checks the
token inside the same transaction as the write (``fence``): a holder that stalled past its
expiry (a long GC pause, a frozen VM, a lost network) and was replaced finds a newer token and
its write is rolled back, so the status the new holder relies on is never overwritten by the
old one (Kleppmann's fencing tokens; Chubby's sequencers).

Time is the database's clock on PostgreSQL, so instances on machines whose clocks disagree
still agree on expiry; SQLite is one machine, whose clock it is.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass

from ..errors import StoreError
from .db import Connection, Database, now_ts

GOOGLE_WRITER = "google-writer"


class LeaseLost(StoreError):
    """The lease was taken over by another holder (or released): stop writing."""

    def __init__(self, name: str, holder: str, by: str | None) -> None:
        self.name = name
        self.holder = holder
        self.by = by
        taken = f"{by} holds it now" if by else "nobody holds it now"
        super().__init__(f"lease {name!r} of {holder} was lost: {taken}")


@dataclass(frozen=True, slots=True)
class Lease:
    """A lease as read from the store at ``now`` (the database's clock)."""

    name: str
    holder: str
    owner: str
    token: int
    expires: float
    acquired: float
    now: float

    @property
    def live(self) -> bool:
        return self.expires > self.now


def default_instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def db_now(conn: Connection, dialect: str) -> float:
    if dialect == "postgresql":
        return float(conn.execute("SELECT EXTRACT(EPOCH FROM clock_timestamp())")[0][0])
    return now_ts()


_SELECT = "SELECT holder, owner, token, expires, acquired FROM leases WHERE name = ?"


def _read(conn: Connection, name: str, now: float) -> Lease | None:
    rows = conn.execute(_SELECT, (name,))
    if not rows:
        return None
    holder, owner, token, expires, acquired = rows[0]
    return Lease(name, str(holder), str(owner), int(token), float(expires), float(acquired), now)


def new_owner() -> str:
    """A process's unique claim id."""
    return uuid.uuid4().hex


class Leases:
    """Acquire, renew, release and read leases; every method is one short transaction."""

    def __init__(self, db: Database, *, seconds: float = 20.0) -> None:
        self.db = db
        self.seconds = seconds

    def acquire(self, name: str, holder: str, owner: str) -> Lease | None:
        """The lease for ``owner`` (shown as ``holder``): renewed if it holds it, taken (with
        the next token) if it is free or expired, None while another owner's lease is live."""
        with self.db.transaction() as conn:
            now = db_now(conn, self.db.dialect)
            current = _read(conn, name, now)
            expires = now + self.seconds
            if current is None:
                conn.execute(
                    "INSERT INTO leases (name, holder, owner, token, expires, acquired) "
                    "VALUES (?, ?, ?, 1, ?, ?)",
                    (name, holder, owner, expires, now),
                )
                return Lease(name, holder, owner, 1, expires, now, now)
            if current.owner == owner and current.live:
                conn.execute("UPDATE leases SET expires = ? WHERE name = ?", (expires, name))
                return Lease(name, holder, owner, current.token, expires, current.acquired, now)
            if current.live:
                return None
            token = current.token + 1
            conn.execute(
                "UPDATE leases SET holder = ?, owner = ?, token = ?, expires = ?, acquired = ? "
                "WHERE name = ?",
                (holder, owner, token, expires, now, name),
            )
            return Lease(name, holder, owner, token, expires, now, now)

    def renew(self, lease: Lease) -> Lease:
        """Extend ``lease``; raises ``LeaseLost`` when its token is no longer the current one.

        A lease that expired but was not taken over is still renewed: nobody else wrote."""
        with self.db.transaction() as conn:
            now = db_now(conn, self.db.dialect)
            self.fence(conn, lease)
            expires = now + self.seconds
            conn.execute("UPDATE leases SET expires = ? WHERE name = ?", (expires, lease.name))
        return Lease(
            lease.name, lease.holder, lease.owner, lease.token, expires, lease.acquired, now
        )

    def release(self, lease: Lease) -> None:
        """Give the lease up at once (a clean stop), so another instance need not wait."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE leases SET expires = 0 WHERE name = ? AND owner = ? AND token = ?",
                (lease.name, lease.owner, lease.token),
            )

    def current(self, name: str) -> Lease | None:
        with self.db.snapshot() as conn:
            now = db_now(conn, self.db.dialect)
            return _read(conn, name, now)

    @staticmethod
    def fence(conn: Connection, lease: Lease) -> None:
        """Inside a write transaction: raise ``LeaseLost`` (rolling it back) unless ``lease``'s
        token is still the current one."""
        rows = conn.execute("SELECT holder, token FROM leases WHERE name = ?", (lease.name,))
        if not rows or int(rows[0][1]) != lease.token:
            raise LeaseLost(lease.name, lease.holder, str(rows[0][0]) if rows else None)
