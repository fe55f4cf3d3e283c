"""Admin sessions: opaque random ids in a cookie, the session itself kept in memory.

The cookie carries nothing but 256 random bits, so there is nothing to sign or decode; a restart
of the bridge signs the admin out, which is acceptable for a page used a few times a month.
Every session, signed in or not, has its own CSRF token, so the login form is protected too.
A successful login replaces the session id (no fixation).
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web

COOKIE = "ipoint_admin"
IDLE_SECONDS = 8 * 3600
MAX_AGE_SECONDS = 24 * 3600
MAX_SESSIONS = 500


FlashKind = Literal["ok", "error", "info"]


@dataclass(slots=True)
class Session:
    """One browser's visit to the admin page. Mutable: flashes and the pending job live here."""

    id: str
    csrf: str
    created: float
    seen: float
    user: str = ""
    flashes: list[tuple[FlashKind, str]] = field(default_factory=list)
    manual_url: str = ""
    """A sign-in link made by "Having trouble?", shown until used."""

    @property
    def authenticated(self) -> bool:
        return bool(self.user)

    def flash(self, kind: FlashKind, text: str) -> None:
        """A message for the next page view."""
        self.flashes.append((kind, text))

    def take_flashes(self) -> list[tuple[FlashKind, str]]:
        out, self.flashes = self.flashes, []
        return out


class SessionStore:
    """Sessions by id, oldest evicted first when full; expired ones dropped on access."""

    def __init__(self, *, secure: bool) -> None:
        self.secure = secure
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def _new(self, user: str = "") -> Session:
        now = time.time()
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), now, now, user)
        self._sessions[session.id] = session
        if len(self._sessions) > MAX_SESSIONS:
            self._evict()
        return session

    def _evict(self) -> None:
        # Anonymous sessions go first, so a flood of login-page visits cannot sign out an admin.
        anonymous = [sid for sid, s in self._sessions.items() if not s.authenticated]
        for sid in anonymous[: len(self._sessions) - MAX_SESSIONS]:
            del self._sessions[sid]
        while len(self._sessions) > MAX_SESSIONS:
            self._sessions.popitem(last=False)

    def get(self, request: web.Request) -> Session | None:
        sid = request.cookies.get(COOKIE, "")
        session = self._sessions.get(sid) if sid else None
        if session is None:
            return None
        now = time.time()
        if now - session.seen > IDLE_SECONDS or now - session.created > MAX_AGE_SECONDS:
            del self._sessions[sid]
            return None
        session.seen = now
        self._sessions.move_to_end(sid)
        return session

    def get_or_create(self, request: web.Request) -> tuple[Session, bool]:
        """The request's session, or a new anonymous one (True: the cookie must be set)."""
        session = self.get(request)
        if session is not None:
            return session, False
        return self._new(), True

    def login(self, old: Session, user: str) -> Session:
        """A fresh signed-in session replacing ``old`` (new id and CSRF token)."""
        self._sessions.pop(old.id, None)
        return self._new(user)

    def drop(self, session: Session) -> None:
        self._sessions.pop(session.id, None)

    def find(self, sid: str) -> Session | None:
        return self._sessions.get(sid)

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
