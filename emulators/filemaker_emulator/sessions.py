"""Data API sessions: tokens minted at log-in, alive until logout or 15 idle minutes.

Claris: "a session token ... remains valid until you log out or for 15 minutes after the last
call that used it"; any call with a dead or unknown token answers 952 with HTTP 401.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from emulator_kit.clock import Clock

from filemaker_emulator.errors import FmError

IDLE_SECONDS = 15 * 60


@dataclass(slots=True)
class Session:
    database: str
    username: str
    last_used: float


class Sessions:
    def __init__(self, clock: Clock, idle_seconds: float = IDLE_SECONDS) -> None:
        self.clock = clock
        self.idle_seconds = idle_seconds
        self._by_token: dict[str, Session] = {}

    def open(self, database: str, username: str) -> str:
        token = secrets.token_hex(26)
        self._by_token[token] = Session(database, username, self.clock.now())
        return token

    def use(self, token: str, database: str) -> Session:
        """The live session of ``token`` for ``database``, its idle time restarted; else 952."""
        session = self._by_token.get(token)
        now = self.clock.now()
        if session is not None and now - session.last_used > self.idle_seconds:
            del self._by_token[token]
            session = None
        if session is None or session.database != database:
            raise FmError(952)
        session.last_used = now
        return session

    def close(self, token: str, database: str) -> None:
        self.use(token, database)
        del self._by_token[token]

    def expire_all(self) -> int:
        count = len(self._by_token)
        self._by_token.clear()
        return count

    def count(self) -> int:
        return len(self._by_token)
