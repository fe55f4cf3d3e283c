"""The mirror's operations: read sources into the status tables, push the queue to Google,
keep calendars and ACLs, reconcile with Google, re-push. The daemon (``service``) and the CLI
(``commands.mirror``) are thin loops around these.

Threading: source reads are async (aiohttp) on the event loop; everything that touches the
database or Google runs on the mirror's one worker thread (``Mirror.run``), never on the
loop; Google batches fan out from there to the client's own threads.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import aiohttp
import google.auth.credentials

from ..config import Settings
from ..google.client import CallCounter, GoogleClient, Tuning
from ..google.credentials import load_credentials, signature
from ..google.errors import GoogleError, NotAuthorized, NotFound
from ..records import User
from ..store.db import Database
from . import caldav_client, ics_client
from .actions import ApplyReport, pump
from .caldav_client import SourceError
from .calendars import ensure_calendar, list_calendars, sync_acl, update_calendar
from .ingest import ingest_page
from .mapping import (
    MapContext,
)
from .plan import REVERT, Action, plan_push
from .reconcile import ReconcileReport, reconcile_calendar
from .sources import Page, SourceSpec, Target, targets
from .status import StatusDB

logger = logging.getLogger(__name__)

CredentialsLoader = Callable[[Settings], google.auth.credentials.Credentials]
DEFAULT_TUNING = Tuning()
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PushReport:
    settled: int = 0
    sent: int = 0
    failed: int = 0
    blocked: str | None = None
    """Why nothing could be written (quota pause, not authorized), in plain words."""


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
    """One shop's mirror: settings, status tables, the Google client (built on demand)."""

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
        self.status = StatusDB(db, clock=clock)
        self.counter = CallCounter()
        self.caldav_base = caldav_base
        self.tuning = replace(tuning, concurrency=settings.google.parallel_batches)
        self._users = users
        self._credentials = credentials
        self._clock = clock
        self._client: GoogleClient | None = None
        self._client_sig: str | None = None
        self._acl_retry: dict[str, float] = {}
        # Every database and Google call of this mirror runs on this one thread (Google's
        # batches fan out to the client's own workers): one SQLite connection, one cache.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mirror")
        self.errors: dict[str, str] = {}
        """Errors of the current pass, per calendar key (plain words)."""

    # ------------------------------------------------------------------ setup

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

    def google(self) -> GoogleClient:
        """The client, (re)built when the credentials changed.

        Raises:
            NotAuthorized: no usable sign-in (the state is recorded for the admin page).
        """
        account = self.status.account()
        sig = signature(self.settings)
        if account.auth_state == "not_authorized" and account.signature == sig:
            raise NotAuthorized(account.reason or "not signed in to Google")
        if self._client is None or self._client_sig != sig:
            self.close()
            try:
                creds = self._credentials(self.settings)
            except NotAuthorized as exc:
                self.not_authorized(exc)
                raise
            g = self.settings.google
            self._client = GoogleClient(
                g.api_endpoint,
                creds,
                rate_per_minute=g.rate_per_minute,
                batch_size=g.batch_size,
                tuning=self.tuning,
                counter=self.counter,
            )
            self._client_sig = sig
        if account.auth_state != "ok":
            self.status.set_account(replace(account, auth_state="ok", reason=None))
        return self._client

    def not_authorized(self, exc: NotAuthorized) -> None:
        """Stop writing until the sign-in changes; keep the queue."""
        account = self.status.account()
        self.status.set_account(
            replace(
                account,
                auth_state="not_authorized",
                reason=str(exc),
                signature=signature(self.settings),
            )
        )
        # Once per change of state: the loop polls every second while nobody is signed in.
        if account.auth_state != "not_authorized" or account.reason != str(exc):
            logger.warning("Google writes stopped: %s", exc)
        if self._client is not None:
            self._client.close()
            self._client = None

    def close(self) -> None:
        """Drop the Google client (a new one is built on the next call)."""
        if self._client is not None:
            self._client.close()
            self._client = None

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

    # ------------------------------------------------------------------ sources

    async def poll(
        self,
        session: aiohttp.ClientSession,
        chosen: Sequence[Target],
        *,
        allow_empty: bool = False,
    ) -> None:
        """Read every source's changes into the status tables (four sources at a time)."""
        gate = asyncio.Semaphore(4)

        async def one(target: Target) -> None:
            async with gate:
                try:
                    await self._poll(session, target, allow_empty)
                except SourceError as exc:
                    self.error(target.key, str(exc))

        await asyncio.gather(*(one(t) for t in chosen))

    async def _poll(
        self, session: aiohttp.ClientSession, target: Target, allow_empty: bool
    ) -> None:
        spec = target.source
        if target.login is not None and not spec.password:
            raise SourceError(
                "the mirror reads iPoint calendars over CalDAV as [caldav] service_user, but "
                "[caldav] service_password is empty: set it (the CalDAV server adds the login)"
            )
        row = await self.run(self.status.calendar, target.key)
        same = row is not None and row.source_url == spec.url
        position: dict[str, Any] = {}
        kind = spec.kind
        if same and row is not None:
            position = {"sync_token": row.sync_token, "ctag": row.ctag, "etag": row.etag}
            if kind == "auto" and row.source_kind:
                kind = row.source_kind
        if kind == "auto":
            kind = await _detect(session, spec)
        ctx = self.context(target)
        pages: Any
        if kind == "caldav":
            etags = None
            if same and row is not None and not row.sync_token and row.ctag:
                items = await self.run(self.status.items, target.key)
                etags = {h: e for h, (e, _) in items.items()}
            pages = caldav_client.read(session, spec, position, etags)
        else:
            pages = ics_client.read(session, spec, position)
        async for page in pages:
            await self.run(self.ingest, target, page, ctx, kind, allow_empty)

    def ingest(
        self, target: Target, page: Page, ctx: MapContext, kind: str, allow_empty: bool = False
    ) -> None:
        """Map one page of a source read and record it (with the position on the last page)."""
        problem = ingest_page(self.status, target, page, ctx, kind, allow_empty)
        if problem:
            self.error(target.key, problem)

    # ------------------------------------------------------------------ Google

    def _blocked(self) -> str | None:
        account = self.status.account()
        now = self._clock()
        if account.paused_until > now:
            until = datetime.fromtimestamp(
                account.paused_until, ZoneInfo(self.settings.bridge.timezone)
            )
            return (
                "Google says the account's Calendar usage limits are exceeded; writes are "
                f"paused until {until:%Y-%m-%d %H:%M} and the changes stay queued"
            )
        return None

    def push(self, chosen: Sequence[Target], deadline: float) -> PushReport:
        """Send queued changes until the queue is empty, the deadline passes, or Google stops
        accepting writes. A row that failed is not tried again within the same call."""
        blocked = self._blocked()
        if blocked:
            return PushReport(blocked=blocked)
        try:
            client = self.google()
            return self._push(client, chosen, deadline)
        except NotAuthorized as exc:
            self.not_authorized(exc)
            return PushReport(blocked=str(exc))

    def _push(self, client: GoogleClient, chosen: Sequence[Target], deadline: float) -> PushReport:
        by_key = {t.key: t for t in chosen}
        ids = {c.key: c.google_id for c in self.status.calendars() if c.google_id}
        tz = self.settings.bridge.timezone
        skip_keys: set[str] = set()
        listing: list[dict[str, Any]] | None = None
        size = client.batch_size

        def next_batch(report: ApplyReport, busy: set[str]) -> list[Action]:
            nonlocal listing
            for key in report.calendars_gone - skip_keys:
                logger.warning("google calendar of %s is gone: creating it again", key)
                self.status.reset_calendar(key)
                ids.pop(key, None)
                listing = None
            report.calendars_gone.clear()
            if self._clock() >= deadline or len(report.failed_gids) > 2000:
                return []
            # A row that failed is not tried again within this push; rows in flight wait.
            skip = busy | report.failed_gids
            rows = self.status.dirty(size * 2 + len(skip), skip_keys)
            rows = [r for r in rows if r.gid not in skip]
            for key in sorted({r.cal_key for r in rows} - ids.keys()):
                target = by_key.get(key)
                if target is None:
                    skip_keys.add(key)
                    continue
                try:
                    if listing is None:
                        listing = list_calendars(client)
                    ids[key] = ensure_calendar(client, self.status, target, tz, listing)
                    self.status.set_calendar(key, last_reconcile=self._clock())
                except NotAuthorized:
                    raise
                except GoogleError as exc:
                    self.error(key, f"cannot create the Google calendar: {exc}")
                    skip_keys.add(key)
            rows = [r for r in rows if r.cal_key in ids]
            series = self.status.series_rows({(r.cal_key, r.series) for r in rows if r.series})
            return plan_push(rows, series, ids)[:size]

        report = pump(client, self.status, next_batch)
        for key, message in report.last_error.items():
            self.error(key, message)
        for key in report.calendars_gone:
            self.status.reset_calendar(key)
        if report.quota is not None:
            pause = self.settings.google.quota_pause_minutes * 60
            account = self.status.account()
            self.status.set_account(replace(account, paused_until=self._clock() + pause))
            logger.warning("Google quota exceeded: writes paused for %d minutes", pause // 60)
            return PushReport(report.settled, report.sent, report.failed, self._blocked())
        now = self._clock()
        for key in {a for a in by_key if a in ids}:
            self.status.set_calendar(key, last_push=now)
        return PushReport(report.settled, report.sent, report.failed)

    def maintain(self, chosen: Sequence[Target]) -> None:
        """Names, zones and ACLs of existing calendars equal to the configuration (no calls
        when nothing changed)."""
        if self._blocked():
            return
        try:
            client = self.google()
        except NotAuthorized:
            return
        tz = self.settings.bridge.timezone
        for target in chosen:
            row = self.status.calendar(target.key)
            if row is None or not row.google_id:
                continue
            try:
                update_calendar(client, self.status, target, tz, row.google_id)
                if row.acl_hash != target.acl_hash() and self._clock() >= self._acl_retry.get(
                    target.key, 0.0
                ):
                    sync_acl(
                        client,
                        self.status,
                        target,
                        row.google_id,
                        send_notifications=self.settings.google.send_notifications,
                    )
            except NotAuthorized as exc:
                self.not_authorized(exc)
                return
            except NotFound:
                logger.warning("google calendar of %s is gone: creating it again", target.key)
                self.status.reset_calendar(target.key)
            except GoogleError as exc:
                self._acl_retry[target.key] = self._clock() + 600
                self.error(target.key, f"cannot update the calendar's name or sharing: {exc}")

    def reconcile(
        self, chosen: Sequence[Target], progress: Callable[[int, int], None] | None = None
    ) -> ReconcileReport:
        """List each Google calendar by the bridge's private property and queue only the
        differences: events edited or deleted by hand are sent again, events added by hand
        (copies carrying the bridge's mark) are deleted, occurrences edited by hand are put
        back. ACLs are checked again on the next ``maintain``.

        Raises:
            NotAuthorized: no usable sign-in.
        """
        client = self.google()
        rows = [c for c in self.status.calendars() if c.google_id]
        totals = ReconcileReport()
        for i, cal in enumerate(rows):
            assert cal.google_id is not None
            try:
                found = reconcile_calendar(
                    client, self.status, cal.key, cal.google_id, self._clock()
                )
            except NotFound:
                logger.warning("google calendar of %s is gone: creating it again", cal.key)
                self.status.reset_calendar(cal.key)
                found = ReconcileReport()
            except NotAuthorized:
                raise
            except GoogleError as exc:
                self.error(cal.key, f"cannot list the Google calendar: {exc}")
                found = ReconcileReport()
            totals = ReconcileReport(
                totals.calendars + 1,
                totals.edited + found.edited,
                totals.missing + found.missing,
                totals.removed + found.removed,
                totals.reverted + found.reverted,
            )
            if progress is not None:
                progress(i + 1, len(rows))
        return totals

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

    # ------------------------------------------------------------------ reporting

    def health(self, chosen: Sequence[Target]) -> Health:
        health = Health()
        for key, figures in self.status.pending().items():
            health.pending += figures.pending
            health.rejected += figures.rejected
            if figures.rejected:
                for gid, why in self.status.rejected(key, 2):
                    health.reasons.append(f"{key}: Google refused event {gid}: {why}")
        blocked = self._blocked()
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

    def finish_pass(self, chosen: Sequence[Target]) -> None:
        """Store each calendar's error of this pass (or clear it), then start a new pass."""
        now = self._clock()
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


async def _detect(session: aiohttp.ClientSession, spec: SourceSpec) -> str:
    """``caldav`` for a calendar collection, ``ics`` for anything else."""
    if spec.url.lower().split("?", 1)[0].endswith(".ics"):
        return "ics"
    try:
        head = await caldav_client.probe(session, spec)
    except SourceError:
        return "ics"
    return "caldav" if head["calendar"] else "ics"


__all__ = ["REVERT", "Health", "Mirror", "PushReport", "ReconcileReport"]
