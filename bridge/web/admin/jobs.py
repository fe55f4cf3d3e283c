"""Re-Push and Reconcile as background jobs the admin page can follow until they finish.

Jobs live in the store: the admin page of any instance queues one, the instance that writes to
Google (the holder of the mirror's lease) runs it, and every instance shows its progress. One
job at a time: a second press while one is queued or runs is refused rather than queued,
because both jobs already cover every calendar. A running job whose instance stopped sending
heartbeats is reported as stopped; finished jobs are kept briefly so a reload still shows the
outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from ...errors import BridgeError
from ...mirror.control import JobKind, JobState, MirrorControl, Progress
from ...store.db import Connection, Database

logger = logging.getLogger(__name__)
KEEP = 20
LABELS: dict[str, str] = {"repush": "Re-Push Future Events", "reconcile": "Reconcile"}
HEARTBEAT_SECONDS = 1.0
"""How often a running job's progress (and that its instance lives) is written."""
STALE_SECONDS = 60.0
"""A running job without a heartbeat for this long has lost its instance."""
POLL_SECONDS = 1.0
"""How often the Google writer looks for a job queued on another instance."""

_COLUMNS = "id, kind, state, queued, runner, heartbeat, done, total, note, finished, summary, error"


@dataclass(slots=True)
class Job:
    id: str
    kind: JobKind
    state: JobState
    started: float
    runner: str = ""
    heartbeat: float = 0.0
    done: int = 0
    total: int = 0
    note: str = ""
    finished: float | None = None
    summary: str = ""
    error: str = ""

    @property
    def label(self) -> str:
        return LABELS.get(self.kind, self.kind)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "state": self.state,
            "runner": self.runner,
            "done": self.done,
            "total": self.total,
            "note": self.note,
            "finished": self.finished is not None,
            "ok": self.finished is not None and not self.error,
            "summary": self.summary,
            "error": self.error,
        }


def _job(row: tuple[Any, ...], now: float) -> Job:
    job = Job(
        str(row[0]),
        cast(JobKind, str(row[1])),
        cast(JobState, str(row[2])),
        float(row[3]),
        str(row[4]),
        float(row[5]),
        int(row[6]),
        int(row[7]),
        str(row[8]),
        None if row[9] is None else float(row[9]),
        str(row[10]),
        str(row[11]),
    )
    if job.state == "running" and now - job.heartbeat > STALE_SECONDS:
        job.state, job.finished = "failed", job.heartbeat
        job.error = f"It stopped: the instance running it ({job.runner}) went away. Start it again."
    return job


class JobBusy(BridgeError):
    """A job is already queued or running."""


class JobBoard:
    """Jobs in the store; runs them here while this instance writes to Google."""

    def __init__(
        self, db: Database, instance: str, port: Callable[[], MirrorControl | None]
    ) -> None:
        self.db = db
        self.instance = instance
        self._port = port
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ store

    def _busy(self, conn: Connection, now: float) -> Job | None:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM admin_jobs WHERE state IN ('queued', 'running') "
            "ORDER BY queued"
        )
        live = [j for j in (_job(r, now) for r in rows) if j.finished is None]
        return live[0] if live else None

    def _queue(self, kind: JobKind) -> Job:
        now = time.time()
        with self.db.transaction() as conn:
            busy = self._busy(conn, now)
            if busy is not None:
                raise JobBusy(f"{busy.label} is still running; wait until it finishes.")
            conn.execute(
                "UPDATE admin_jobs SET state = 'failed', finished = heartbeat, error = ? "
                "WHERE state = 'running'",
                ("It stopped: the instance running it went away.",),
            )
            job = Job(secrets.token_urlsafe(9), kind, "queued", now, heartbeat=now)
            conn.execute(
                "INSERT INTO admin_jobs (id, kind, state, queued, heartbeat) "
                "VALUES (?, ?, ?, ?, ?)",
                (job.id, kind, job.state, now, now),
            )
            conn.execute(
                "DELETE FROM admin_jobs WHERE id NOT IN (SELECT id FROM admin_jobs "
                "ORDER BY queued DESC LIMIT ?)",
                (KEEP,),
            )
        return job

    def _get(self, job_id: str | None) -> Job | None:
        with self.db.snapshot() as conn:
            if job_id is None:
                rows = conn.execute(
                    f"SELECT {_COLUMNS} FROM admin_jobs ORDER BY queued DESC LIMIT 1"
                )
            else:
                rows = conn.execute(f"SELECT {_COLUMNS} FROM admin_jobs WHERE id = ?", (job_id,))
        return _job(rows[0], time.time()) if rows else None

    def _claim(self) -> Job | None:
        now = time.time()
        with self.db.transaction() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM admin_jobs WHERE state = 'queued' ORDER BY queued LIMIT 1"
            )
            if not rows:
                return None
            job = _job(rows[0], now)
            conn.execute(
                "UPDATE admin_jobs SET state = 'running', runner = ?, heartbeat = ? WHERE id = ?",
                (self.instance, now, job.id),
            )
        job.state, job.runner, job.heartbeat = "running", self.instance, now
        return job

    def _write(self, job: Job) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE admin_jobs SET state = ?, heartbeat = ?, done = ?, total = ?, note = ?, "
                "finished = ?, summary = ?, error = ? WHERE id = ? AND runner = ?",
                (
                    job.state,
                    time.time(),
                    job.done,
                    job.total,
                    job.note[:500],
                    job.finished,
                    job.summary[:1000],
                    job.error[:1000],
                    job.id,
                    self.instance,
                ),
            )

    # ------------------------------------------------------------------ the page

    async def start(self, kind: JobKind) -> Job:
        """Queue a job; raises ``JobBusy`` while another is queued or running."""
        job = await asyncio.to_thread(self._queue, kind)
        logger.info("%s queued from the admin page", job.label)
        self._wake.set()
        return job

    async def get(self, job_id: str) -> Job | None:
        if not job_id or len(job_id) > 64:
            return None
        return await asyncio.to_thread(self._get, job_id)

    async def latest(self) -> Job | None:
        return await asyncio.to_thread(self._get, None)

    # ------------------------------------------------------------------ the runner

    async def _run(self, job: Job, mirror: MirrorControl) -> None:
        def progress(p: Progress) -> None:
            job.done, job.total, job.note = p.done, p.total, p.note

        async def heartbeat() -> None:
            while True:
                await asyncio.sleep(HEARTBEAT_SECONDS)
                await asyncio.to_thread(self._write, job)

        logger.info("%s started", job.label)
        beat = asyncio.create_task(heartbeat())
        try:
            run = mirror.repush_future if job.kind == "repush" else mirror.reconcile
            job.summary = await run(progress)
            job.state = "done"
        except BridgeError as exc:
            job.state, job.error = "failed", str(exc)
        except Exception:  # the page must learn the job ended; details go to the log
            logger.exception("%s failed", job.label)
            job.state = "failed"
            job.error = "It stopped because of an internal error; see the bridge's log."
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            job.finished = time.time()
            await asyncio.to_thread(self._write, job)
            logger.info("%s finished: %s", job.label, job.error or job.summary)

    async def _runner(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            self._wake.clear()
            mirror = self._port()
            if mirror is None or not mirror.writes_to_google():
                continue
            try:
                job = await asyncio.to_thread(self._claim)
            except BridgeError as exc:
                logger.warning("admin jobs: %s", exc)
                continue
            if job is not None:
                await self._run(job, mirror)

    def open(self) -> None:
        self._loop = asyncio.create_task(self._runner())

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
