"""The mirror's shared state: settings, status tables, the Google session, the worker thread
every database and Google call runs on, and the errors of the current pass. The jobs live
beside it: ``poll`` (read sources), ``push`` (write Google), ``reconcile`` (repair hand
edits); ``mirror_pass`` runs them in order.

Threading: source reads are async (aiohttp) on the event loop; everything that touches the
database or Google runs on the mirror's one worker thread (``Mirror.run``), never on the
loop; Google batches fan out from there to the client's own threads.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from ..config import Settings
from ..google.client import CallCounter, Tuning
from ..google.credentials import load_credentials
from ..records import User
from ..store.db import Database
from .google_session import CredentialsLoader, GoogleSession
from .mapping import MapContext
from .sources import Target, targets
from .status import StatusDB

logger = logging.getLogger(__name__)

DEFAULT_TUNING = Tuning()
T = TypeVar("T")


@dataclass(slots=True)
class Health:
    """Convergence figures after a pass (``sync --once`` exits by them)."""

    pending: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        return not self.pending and not self.rejected and not self.reasons


class Mirror:
    """One shop's mirror: settings, status tables, the Google session (client built on demand)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        users: Callable[[], list[User]],
        caldav_base: str | None = None,
        tuning: Tuning = DEFAULT_TUNING,
        credentials: CredentialsLoader = load_credentials,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.status = StatusDB(db, clock=clock)
        self.counter = CallCounter()
        self.caldav_base = caldav_base
        self.tuning = replace(tuning, concurrency=settings.google.parallel_batches)
        self.google = GoogleSession(
            settings,
            self.status,
            tuning=self.tuning,
            counter=self.counter,
            credentials=credentials,
            clock=clock,
        )
        self._users = users
        self.acl_retry: dict[str, float] = {}
        """Per calendar key: no name or sharing update before this time (after a refusal)."""
        # Every database and Google call of this mirror runs on this one thread (Google's
        # batches fan out to the client's own workers): one SQLite connection, one cache.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mirror")
        self.errors: dict[str, str] = {}
        """Errors of the current pass, per calendar key (plain words)."""

    def targets(self) -> list[Target]:
        return targets(self.settings, self._users(), self.caldav_base)

    def context(self, target: Target) -> MapContext:
        g = self.settings.google
        return MapContext(
            source=target.key,
            shop_tz=self.settings.bridge.timezone,
            color_work_order=g.color_work_order,
            color_event=g.color_event,
            footer=target.footer,
        )

    def google_ids(self) -> dict[str, str]:
        """Google calendar id per calendar key, for calendars that exist in Google."""
        return {c.key: c.google_id for c in self.status.calendars() if c.google_id}

    def close(self) -> None:
        """Drop the Google client (a new one is built on the next call); wakes a push waiting
        for pacing or backoff."""
        self.google.close()

    def shutdown(self) -> None:
        """Close the client and the mirror's worker thread."""
        self.close()
        self._worker.shutdown(wait=False, cancel_futures=True)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the mirror's worker thread (never on the event loop)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, functools.partial(fn, *args))

    def error(self, key: str, message: str) -> None:
        logger.warning("mirror %s: %s", key, message)
        self.errors[key] = message

    def repush(self, *, future: bool = True) -> int:
        """Queue every event again (from today on, in the shop's zone, with ``future``)."""
        since = None
        if future:
            tz = ZoneInfo(self.settings.bridge.timezone)
            today = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0)
            since = today.timestamp()
        count = self.status.redo(ending_after=since)
        logger.info("re-push: %d events queued again", count)
        return count

    def health(self) -> Health:
        """Convergence figures and the reasons Google differs from the sources, in plain words."""
        health = Health()
        for key, figures in self.status.pending().items():
            health.pending += figures.pending
            health.rejected += figures.rejected
            if figures.rejected:
                for gid, why in self.status.rejected(key, 2):
                    health.reasons.append(f"{key}: Google refused event {gid}: {why}")
        blocked = self.google.blocked()
        if blocked:
            health.reasons.append(blocked)
        account = self.status.account()
        if account.auth_state != "ok":
            health.reasons.append(account.reason or "not signed in to Google")
        for key, message in sorted(self.errors.items()):
            health.reasons.append(f"{key}: {message}")
        if health.pending:
            health.reasons.append(f"{health.pending} changes are still queued for Google")
        return health

    def finish_pass(self, chosen: list[Target]) -> None:
        """Store each calendar's error of this pass (or clear it), then start a new pass."""
        now = self.clock()
        for target in chosen:
            message = self.errors.get(target.key)
            row = self.status.calendar(target.key)
            if row is None and message is None:
                continue
            if row is not None and row.last_error == message:
                continue
            self.status.set_calendar(
                target.key, last_error=message, error_at=now if message else None
            )
        self.errors = {}


__all__ = ["DEFAULT_TUNING", "Health", "Mirror"]
