"""Sign-ins in progress on the admin page: each ``state`` bound to the session that started it.

A state is single use: it is consumed before the code is exchanged, and remembered for a while
afterwards so a replay is refused with a clear reason. A callback whose state belongs to
another session is refused but leaves the state pending, so the admin can still paste the
address into the session that started it ("Having trouble?"). Kept in the store, so Google's
redirect may land on another instance than the one that started the sign-in.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Literal

from ...google.oauth_flow import AuthRequest
from ...store.db import Connection, Database

PENDING_SECONDS = 15 * 60
USED_MEMORY_SECONDS = 24 * 3600
MAX_PENDING = 50
MAX_USED = 1000


@dataclass(frozen=True, slots=True)
class PendingFlow:
    request: AuthRequest
    session_hash: str
    started: float


Verdict = Literal["ok", "unknown", "used", "expired", "wrong_session"]

REFUSALS: dict[str, str] = {
    "unknown": "This sign-in answer does not belong to any sign-in started here. It was refused "
    "(it may be forged, or it was started too long ago). Start again.",
    "used": "This sign-in answer was already used once and cannot be used again. If you want "
    'to sign in again, press "Sign in with Google".',
    "expired": "This sign-in took too long and has expired. Start again.",
    "wrong_session": "This sign-in was started from another browser or admin session, so it "
    'was refused here. If you used "Having trouble?", copy this page\'s full address from the '
    "address bar and paste it on the admin page where you started.",
}


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _prune(conn: Connection, now: float) -> None:
    conn.execute(
        "DELETE FROM admin_flows WHERE (used IS NULL AND started < ?) OR used < ?",
        (now - PENDING_SECONDS * 4, now - USED_MEMORY_SECONDS),
    )
    for where, keep in (("used IS NULL", MAX_PENDING), ("used IS NOT NULL", MAX_USED)):
        conn.execute(
            f"DELETE FROM admin_flows WHERE {where} AND state NOT IN (SELECT state FROM "
            f"admin_flows WHERE {where} ORDER BY started DESC LIMIT ?)",
            (keep,),
        )


_SELECT = "SELECT url, verifier, redirect_uri, session_hash, started, used FROM admin_flows "


class FlowStore:
    """Pending sign-ins by state, and recently used states."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _add(self, request: AuthRequest, session_id: str) -> None:
        now = time.time()
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO admin_flows (state, session_hash, url, verifier, redirect_uri, "
                "started) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    request.state,
                    _hash(session_id),
                    request.url,
                    request.verifier,
                    request.redirect_uri,
                    now,
                ),
            )
            _prune(conn, now)

    def _take(self, state: str, session_id: str) -> tuple[Verdict, PendingFlow | None]:
        now = time.time()
        if not state or len(state) > 200:
            return "unknown", None
        with self.db.transaction() as conn:
            rows = conn.execute(_SELECT + "WHERE state = ?", (state,))
            if not rows:
                return "unknown", None
            url, verifier, redirect_uri, session_hash, started, used = rows[0]
            if used is not None:
                return "used", None
            if not hmac.compare_digest(str(session_hash), _hash(session_id)):
                return "wrong_session", None
            conn.execute("UPDATE admin_flows SET used = ? WHERE state = ?", (now, state))
        if now - float(started) > PENDING_SECONDS:
            return "expired", None
        request = AuthRequest(str(url), state, str(verifier), str(redirect_uri))
        return "ok", PendingFlow(request, str(session_hash), float(started))

    def _peek(self, state: str) -> bool:
        with self.db.snapshot() as conn:
            rows = conn.execute(
                "SELECT 1 FROM admin_flows WHERE state = ? AND used IS NULL", (state,)
            )
        return bool(rows)

    def _drop_session(self, session_id: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "DELETE FROM admin_flows WHERE session_hash = ? AND used IS NULL",
                (_hash(session_id),),
            )

    async def add(self, request: AuthRequest, session_id: str) -> None:
        await asyncio.to_thread(self._add, request, session_id)

    async def take(self, state: str, session_id: str) -> tuple[Verdict, PendingFlow | None]:
        """Consume ``state`` for ``session_id``; the verdict says why it was refused."""
        return await asyncio.to_thread(self._take, state, session_id)

    async def pending(self, state: str) -> bool:
        """Whether ``state`` is a sign-in still waiting for its answer."""
        return await asyncio.to_thread(self._peek, state)

    async def drop_session(self, session_id: str) -> None:
        await asyncio.to_thread(self._drop_session, session_id)
