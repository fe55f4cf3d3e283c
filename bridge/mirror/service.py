"""The mirror daemon inside ``ipoint-bridge serve`` (and ``sync`` without ``--once``): a loop
that runs ``mirror_pass`` every ``[mirror] interval_seconds`` (or at once after ``wake()``),
the Re-Push and Reconcile jobs it runs between passes (so only one thing writes to Google at a
time), and the status and metrics it keeps for the admin page and ``/metrics``
(``MirrorControl``). The web app starts and stops it (``bridge.web.app``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from ..config import Settings
from ..errors import BridgeError
from ..google.client import Tuning, calendar_link
from ..google.credentials import load_credentials
from ..runtime import instance_name, local_caldav_url
from ..store import EventStore
from ..store.lease import LeaseLost, Leases
from .control import (
    CalendarStatus,
    JobKind,
    JobState,
    JobStatus,
    MirrorMetrics,
    MirrorStatus,
    Progress,
    ProgressCallback,
)
from .engine import DEFAULT_TUNING, Mirror
from .google_session import CredentialsLoader
from .mirror_pass import mirror_pass
from .reconcile import reconcile
from .sources import USER_PREFIX, Target
from .writer import GoogleWriter

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(slots=True)
class _Job:
    kind: JobKind
    progress: ProgressCallback | None
    done: asyncio.Future[str]
    total: int = 0
    state: JobState = "queued"
    count: int = 0
    message: str = ""

    def view(self) -> JobStatus:
        return JobStatus(self.kind, self.state, self.count, self.total, self.message)


def _acl_lines(rules: list[dict[str, Any]]) -> tuple[str, ...]:
    out = []
    for rule in rules:
        who = rule.get("value") or ("everyone (public)" if rule.get("type") == "default" else "")
        if rule.get("type") == "domain":
            who = f"everyone at {who}"
        out.append(f"{rule.get('role', 'reader')}: {who}")
    return tuple(out)


class MirrorService:
    """The running mirror: the loop, its status, its jobs, its counters."""

    def __init__(
        self,
        settings: Settings,
        store: EventStore,
        *,
        caldav_base: str | None = None,
        tuning: Tuning = DEFAULT_TUNING,
        credentials: CredentialsLoader = load_credentials,
        instance: str | None = None,
    ) -> None:
        self.settings = settings
        self.mirror = Mirror(
            settings,
            store.db,
            users=store.users,
            caldav_base=caldav_base or local_caldav_url(settings),
            tuning=tuning,
            credentials=credentials,
        )
        self.writer = GoogleWriter(
            Leases(store.db, seconds=settings.mirror.lease_seconds),
            instance or instance_name(settings),
            self.mirror.status,
            on_gained=self.wake,
            on_lost=self._lost,
        )
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._jobs: list[_Job] = []
        self._job: _Job | None = None
        self._last_job: JobStatus | None = None
        self._status = MirrorStatus(
            settings.google.enabled, False, "not started", 0.0, 0, None, None
        )
        self._last_pass: float | None = None
        self._last_reconcile = time.time()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        await self.mirror.run(self._refresh_status)
        if self.settings.google.enabled:
            self.writer.start()
            self._task = asyncio.create_task(self._run(), name="google-mirror")

    async def stop(self) -> None:
        self.mirror.close()  # wakes a push waiting for pacing or backoff
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.writer.stop()
        for job in [*self._jobs, *([self._job] if self._job else [])]:
            if not job.done.done():
                job.done.set_exception(BridgeError("the mirror stopped before the job finished"))
        self.mirror.shutdown()

    def wake(self) -> None:
        """Start the next pass now (e.g. right after an ingest)."""
        self._wake.set()

    async def _run(self) -> None:
        interval = self.settings.mirror.interval_seconds
        timeout = aiohttp.ClientTimeout(total=60, sock_connect=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                started = time.time()
                rest = interval
                try:
                    if self.writer.holds:
                        await self._pass(session)
                    else:
                        # Another instance writes to Google: show what it achieved, and wait
                        # to take over (``GoogleWriter`` wakes this loop when we do).
                        await self.mirror.run(self._refresh_status)
                        rest = self.writer.every
                except asyncio.CancelledError:
                    raise
                except LeaseLost as exc:
                    logger.warning("mirror pass stopped: %s", exc)
                except Exception:
                    logger.exception("mirror pass failed; trying again in %.0fs", interval)
                self._wake.clear()
                rest = max(0.0, rest - (time.time() - started))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), rest)

    async def _pass(self, session: aiohttp.ClientSession) -> None:
        report = await mirror_pass(self.mirror, session, job=self._run_jobs)
        self._last_pass = time.time()
        await self.mirror.run(self._refresh_status)
        if self._job is not None:
            self._advance(self._job, report.push.blocked)

    async def _run_jobs(self, targets: list[Target]) -> None:
        """The pass's job: start the next queued Re-Push or Reconcile, else the periodic
        reconcile when ``[mirror] reconcile_hours`` have passed."""
        if self._job is None and self._jobs:
            self._job = self._jobs.pop(0)
            await self._begin(self._job)
        hours = self.settings.mirror.reconcile_hours
        if hours and time.time() - self._last_reconcile > hours * 3600 and self._job is None:
            self._last_reconcile = time.time()
            await self._guard(self.mirror.run(reconcile, self.mirror))

    async def _guard(self, work: Awaitable[T]) -> T | None:
        try:
            return await work
        except BridgeError as exc:
            logger.warning("mirror: %s", exc)
            return None

    # ------------------------------------------------------------------ jobs

    async def _begin(self, job: _Job) -> None:
        job.state = "running"
        try:
            if job.kind == "repush":
                job.total = await self.mirror.run(
                    functools.partial(self.mirror.repush, future=True)
                )
            else:

                def step(done: int, total: int) -> None:
                    job.count, job.total = done, total
                    self._report(job, f"checked {done} of {total} calendars")

                found = await self.mirror.run(reconcile, self.mirror, step)
                job.message = (
                    f"{found.calendars} calendars checked: {found.edited} edited and "
                    f"{found.missing} deleted by hand are sent again, {found.removed} added "
                    f"by hand removed, {found.reverted} occurrences put back"
                )
                job.total = await self.mirror.run(self._queue_depth)
        except BridgeError as exc:
            self._finish(job, error=str(exc))

    def _queue_depth(self) -> int:
        return sum(p.pending for p in self.mirror.status.pending().values())

    def _advance(self, job: _Job, blocked: str | None) -> None:
        if job.done.done():
            self._job = None
            return
        pending = self._status.pending
        job.count = max(0, job.total - pending)
        self._report(job, f"{job.count} of {job.total} sent to Google")
        if blocked:
            self._finish(job, error=blocked)
        elif pending == 0:
            if job.kind == "repush":
                job.message = f"{job.total} events from today on sent to Google again"
            self._finish(job)

    def _report(self, job: _Job, note: str) -> None:
        if job.progress is not None:
            job.progress(Progress(job.count, job.total, note))

    def _finish(self, job: _Job, error: str | None = None) -> None:
        job.state = "failed" if error else "done"
        if error:
            job.message = error
            job.done.set_exception(BridgeError(error))
        else:
            job.done.set_result(job.message)
        self._last_job = job.view()
        self._job = None

    def _enqueue(self, kind: JobKind, progress: ProgressCallback | None) -> _Job:
        if not self.settings.google.enabled or self._task is None:
            raise BridgeError("the Google mirror is not running ([google] enabled = no)")
        job = _Job(kind, progress, asyncio.get_running_loop().create_future())
        if progress is None:
            # Started without waiting: its outcome is read from status(), not from the future.
            job.done.add_done_callback(lambda f: None if f.cancelled() else f.exception())
        self._jobs.append(job)
        self.wake()
        return job

    async def repush_future(self, progress: ProgressCallback) -> str:
        """Re-Push Future Events, awaited; ``progress`` gets ``Progress(done, total, note)``."""
        return await self._enqueue("repush", progress).done

    async def reconcile(self, progress: ProgressCallback) -> str:
        return await self._enqueue("reconcile", progress).done

    # ------------------------------------------------------------------ status

    def _refresh_status(self) -> None:
        m = self.mirror
        status = m.status
        account = status.account()
        pending = status.pending()
        by_key = {t.key: t for t in m.targets()}
        cals: list[CalendarStatus] = []
        oldest: float | None = None
        for row in status.calendars():
            figures = pending.get(row.key)
            target = by_key.get(row.key)
            if figures is not None and figures.oldest is not None:
                oldest = figures.oldest if oldest is None else min(oldest, figures.oldest)
            cals.append(
                CalendarStatus(
                    key=row.key,
                    name=(target.summary if target else row.summary) or row.key,
                    login=row.key[len(USER_PREFIX) :] if row.key.startswith(USER_PREFIX) else None,
                    google_id=row.google_id or "",
                    html_link=calendar_link(self.settings.google.api_endpoint, row.google_id)
                    if row.google_id
                    else "",
                    acl=_acl_lines(row.acl_rules()),
                    public_ical_url=row.public_url or "",
                    last_mirrored=row.last_push,
                    pending=figures.pending if figures else 0,
                    rejected=figures.rejected if figures else 0,
                    last_error=row.last_error
                    or (figures.error if figures and figures.error else "")
                    or "",
                )
            )
        total = sum(p.pending + p.rejected for p in pending.values())
        self._status = MirrorStatus(
            enabled=self.settings.google.enabled,
            authorized=account.auth_state == "ok" and m.google.connected,
            auth_reason=account.reason or "",
            paused_until=account.paused_until,
            pending=total,
            lag_seconds=(time.time() - oldest) if oldest is not None else None,
            last_pass=self._last_pass,
            calendars=tuple(cals),
            job=self._job.view() if self._job else self._last_job,
        )

    def status(self) -> MirrorStatus:
        """The latest status (refreshed after every pass; no I/O)."""
        job = self._job.view() if self._job else self._last_job
        if job != self._status.job:
            return replace(self._status, job=job)
        return self._status

    def calendar_status(self, login: str) -> CalendarStatus | None:
        """One technician's Google calendar as the last pass left it (``MirrorControl``)."""
        for cal in self._status.calendars:
            if cal.login == login:
                return cal
        return None

    def writes_to_google(self) -> bool:
        """Whether this instance's mirror is the one writing to Google (``MirrorControl``)."""
        return self._task is not None and self.writer.holds

    def _lost(self) -> None:
        """Another instance took the Google writer's lease: stop writing, fail our jobs (the
        admin presses again; the new writer runs it)."""
        self.mirror.close()
        for job in [*self._jobs, *([self._job] if self._job else [])]:
            if not job.done.done():
                job.done.set_exception(
                    BridgeError("another instance took over writing to Google; start it again")
                )
        self._jobs, self._job = [], None

    def _calls(self) -> dict[str, int]:
        """Google calls by outcome (HTTP requests and give-ups are bookkeeping, not calls)."""
        counts = self.mirror.counter.snapshot()
        return {k: v for k, v in counts.items() if k not in ("http_requests", "abandoned")}

    def metrics(self) -> MirrorMetrics:
        """Counters for ``/metrics`` (``MirrorControl``)."""
        return MirrorMetrics(self._calls(), self._status.pending, self._status.lag_seconds)


MIRROR: web.AppKey[MirrorService] = web.AppKey("mirror", MirrorService)


__all__ = ["MIRROR", "MirrorService", "local_caldav_url"]
