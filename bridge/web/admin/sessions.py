"""Admin sessions: opaque random ids in a cookie, the session itself kept in the store.

The cookie carries nothing but 256 random bits, so there is nothing to sign or decode; the
store keeps only their SHA-256, so a copy of the database signs nobody in. Sessions live in the
shared store so that every instance behind a load balancer knows them (an admin signed in on one
stays signed in on the next request, wherever it lands), and a restart keeps them.
Every session, signed in or not, has its own CSRF token, so the login form is protected too.
A successful login replaces the session id (no fixation).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Literal, cast, get_args

from aiohttp import web

from ...store.db import Connection, Database

COOKIE = "ipoint_admin"
IDLE_SECONDS = 8 * 3600
MAX_AGE_SECONDS = 24 * 3600
MAX_SESSIONS = 500
SEEN_EVERY_SECONDS = 60.0
"""A session's last-seen time is written at most this often, not on every request."""
MAX_FLASHES = 10


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


FlashKind = Literal["ok", "error", "info"]
FLASH_KINDS = frozenset(get_args(FlashKind))


@dataclass(slots=True)
class Session:
    """One browser's visit to the admin page. Mutable: flashes and the sign-in link live here;
    the guard writes a changed session back at the end of the request."""

    id: str
    csrf: str
    created: float
    seen: float
    user: str = ""
    flashes: list[tuple[FlashKind, str]] = field(default_factory=list)
    manual_url: str = ""
    """A sign-in link made by "Having trouble?", shown until used."""
    loaded: tuple[str, str] = ("", "")
    """Flashes and link as read from the store, to tell whether a write-back is needed."""

    @property
    def authenticated(self) -> bool:
        return bool(self.user)

    def flash(self, kind: FlashKind, text: str) -> None:
        """A message for the next page view."""
        self.flashes = [*self.flashes, (kind, text)][-MAX_FLASHES:]

    def take_flashes(self) -> list[tuple[FlashKind, str]]:
        out, self.flashes = self.flashes, []
        return out

    def _state(self) -> tuple[str, str]:
        return json.dumps(self.flashes), self.manual_url

    @property
    def changed(self) -> bool:
        return self._state() != self.loaded


class SessionStore:
    """Sessions by id in the store; expired ones dropped, anonymous ones evicted first when
    there are too many."""

    def __init__(self, db: Database, *, secure: bool) -> None:
        self.db = db
        self.secure = secure

    # -------------------------------------------------------------- in a worker thread

    def _insert(self, user: str) -> Session:
        now = time.time()
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), now, now, user)
        flashes, url = session._state()
        session.loaded = (flashes, url)
        with self.db.transaction() as conn:
            conn.execute(
                "DELETE FROM admin_sessions WHERE seen < ? OR created < ?",
                (now - IDLE_SECONDS, now - MAX_AGE_SECONDS),
            )
            conn.execute(
                "INSERT INTO admin_sessions (id_hash, csrf, created, seen, username, flashes, "
                "manual_url) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (_hash(session.id), session.csrf, now, now, user, flashes, url),
            )
            self._evict(conn)
        return session

    @staticmethod
    def _evict(conn: Connection) -> None:
        count = int(conn.execute("SELECT count(*) FROM admin_sessions")[0][0])
        if count <= MAX_SESSIONS:
            return
        # Anonymous sessions go first, so a flood of login-page visits cannot sign out an admin.
        for anonymous in (True, False):
            excess = count - MAX_SESSIONS
            if excess <= 0:
                return
            where = "username = ''" if anonymous else "username <> ''"
            conn.execute(
                "DELETE FROM admin_sessions WHERE id_hash IN (SELECT id_hash FROM "
                f"admin_sessions WHERE {where} ORDER BY seen LIMIT ?)",
                (excess,),
            )
            count = int(conn.execute("SELECT count(*) FROM admin_sessions")[0][0])

    def find(self, sid: str) -> Session | None:
        """The live session with cookie value ``sid``, its last-seen time refreshed."""
        if not sid or len(sid) > 100:
            return None
        key = _hash(sid)
        now = time.time()
        with self.db.snapshot() as conn:
            rows = conn.execute(
                "SELECT csrf, created, seen, username, flashes, manual_url FROM admin_sessions "
                "WHERE id_hash = ?",
                (key,),
            )
        if not rows:
            return None
        csrf, created, seen, user, flashes, url = rows[0]
        if now - float(seen) > IDLE_SECONDS or now - float(created) > MAX_AGE_SECONDS:
            with self.db.transaction() as conn:
                conn.execute("DELETE FROM admin_sessions WHERE id_hash = ?", (key,))
            return None
        if now - float(seen) > SEEN_EVERY_SECONDS:
            with self.db.transaction() as conn:
                conn.execute("UPDATE admin_sessions SET seen = ? WHERE id_hash = ?", (now, key))
            seen = now
        session = Session(
            sid,
            str(csrf),
            float(created),
            float(seen),
            str(user),
            [(cast(FlashKind, k), str(t)) for k, t in json.loads(flashes) if k in FLASH_KINDS],
            str(url),
        )
        session.loaded = (str(flashes), str(url))
        return session

    def _save(self, session: Session) -> None:
        flashes, url = session._state()
        with self.db.transaction() as conn:
            # UPDATE only: a session dropped during the request (sign-out) stays gone.
            conn.execute(
                "UPDATE admin_sessions SET flashes = ?, manual_url = ? WHERE id_hash = ?",
                (flashes, url, _hash(session.id)),
            )
        session.loaded = (flashes, url)

    def _drop(self, sid: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM admin_sessions WHERE id_hash = ?", (_hash(sid),))

    # -------------------------------------------------------------- from the event loop

    async def get(self, request: web.Request) -> Session | None:
        return await asyncio.to_thread(self.find, request.cookies.get(COOKIE, ""))

    async def get_or_create(self, request: web.Request) -> tuple[Session, bool]:
        """The request's session, or a new anonymous one (True: the cookie must be set)."""
        session = await self.get(request)
        if session is not None:
            return session, False
        return await asyncio.to_thread(self._insert, ""), True

    async def login(self, old: Session, user: str) -> Session:
        """A fresh signed-in session replacing ``old`` (new id and CSRF token)."""
        await asyncio.to_thread(self._drop, old.id)
        return await asyncio.to_thread(self._insert, user)

    async def drop(self, session: Session) -> None:
        await asyncio.to_thread(self._drop, session.id)

    async def save(self, session: Session) -> None:
        """Write back the session's flashes and sign-in link when the request changed them."""
        if session.changed:
            await asyncio.to_thread(self._save, session)

    def set_cookie(
        self, response: web.StreamResponse, session: Session, *, https: bool = False
    ) -> None:
        """Set the session cookie; ``Secure`` when the bridge's address is https or this
        request came over https (directly or through a trusted proxy)."""
        response.set_cookie(
            COOKIE,
            session.id,
            path="/admin",
            httponly=True,
            samesite="Lax",
            secure=self.secure or https,
            max_age=MAX_AGE_SECONDS,
        )

    def clear_cookie(self, response: web.StreamResponse) -> None:
        response.del_cookie(COOKIE, path="/admin")
