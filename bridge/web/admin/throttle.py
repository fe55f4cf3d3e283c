"""Login throttling: an attempt is counted before its password is checked, a client address
has one check in flight at a time, and a flood slows everyone down instead of locking anyone out.

- Per client address: ``[admin] login_attempts`` attempts per ``login_window_seconds``, each
  counted (in the store, shared by every instance) *before* the bcrypt check, so sixty parallel
  guesses cost at most that many checks; a right password clears the count. While one of its
  attempts is being checked, a client's next attempt is refused at once (no bcrypt).
- All addresses together: past ``login_slowdown_after`` attempts in the window, every attempt
  waits ``login_slowdown_seconds`` first, and an instance runs at most
  ``login_checks_in_flight`` checks at once (first come, first served). A guesser spread over
  many addresses is slowed down; the owner, from an address that has not failed, still gets in
  after a bounded wait. (A global lockout let such a flood keep the real admin out for minutes.)

The client address comes from ``web.forwarded.client_address`` (the forwarded address from trusted
proxies only).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from ...config import AdminSettings
from ...store.db import Database

MAX_ROWS = 100_000
"""Attempts kept at most (the oldest go first), whatever the number of addresses."""


@dataclass(frozen=True, slots=True)
class Admission:
    """The throttle's answer to one attempt."""

    wait: float = 0.0
    """Seconds until the client may try again; > 0 refuses this attempt."""
    busy: bool = False
    """Another attempt from this client is being checked: refused."""
    delay: float = 0.0
    """Seconds to pause before checking (everyone is slowed down)."""

    @property
    def allowed(self) -> bool:
        return self.wait <= 0 and not self.busy


class LoginThrottle:
    """Attempts per client in the store; checks in flight per client and per instance here."""

    def __init__(
        self,
        db: Database,
        settings: AdminSettings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self._window = settings.login_window_seconds
        self._per_client = settings.login_attempts
        self._slowdown_after = settings.login_slowdown_after
        self._slowdown = settings.login_slowdown_seconds
        self._clock = clock
        self._checks = asyncio.Semaphore(settings.login_checks_in_flight)
        self._in_flight: set[str] = set()

    def _count(self, client: str) -> Admission:
        """Count this attempt, then judge it (one transaction, serialised across instances)."""
        now = self._clock()
        since = now - self._window
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM admin_login_attempts WHERE at < ?", (since,))
            mine = [
                float(r[0])
                for r in conn.execute(
                    "SELECT at FROM admin_login_attempts WHERE client = ? ORDER BY at",
                    (client,),
                )
            ]
            if len(mine) >= self._per_client:
                # Refused attempts are not stored: hammering costs no rows and no checks.
                return Admission(wait=mine[-self._per_client] + self._window - now)
            conn.execute(
                "INSERT INTO admin_login_attempts (client, at) VALUES (?, ?)", (client, now)
            )
            total = int(conn.execute("SELECT count(*) FROM admin_login_attempts")[0][0])
            if total > MAX_ROWS:
                conn.execute(
                    "DELETE FROM admin_login_attempts WHERE at <= (SELECT at FROM "
                    "admin_login_attempts ORDER BY at LIMIT 1 OFFSET ?)",
                    (total - MAX_ROWS,),
                )
        return Admission(delay=self._slowdown if total > self._slowdown_after else 0.0)

    def _clear(self, client: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM admin_login_attempts WHERE client = ?", (client,))

    @contextlib.asynccontextmanager
    async def attempt(self, client: str) -> AsyncIterator[Admission]:
        """Admit one attempt of ``client``; while the body runs (the password check) the client
        has an attempt in flight. The body runs the check only if ``allowed``."""
        if client in self._in_flight:
            yield Admission(busy=True)
            return
        self._in_flight.add(client)
        try:
            admission = await asyncio.to_thread(self._count, client)
            if not admission.allowed:
                yield admission
                return
            if admission.delay:
                await asyncio.sleep(admission.delay)
            async with self._checks:
                yield admission
        finally:
            self._in_flight.discard(client)

    async def succeeded(self, client: str) -> None:
        await asyncio.to_thread(self._clear, client)
