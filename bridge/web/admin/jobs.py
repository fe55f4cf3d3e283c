"""Re-Push and Reconcile as background jobs the admin page can follow until they finish.

One job at a time: a second press while one runs is refused rather than queued, because both
jobs already cover every calendar. Finished jobs are kept briefly so a reload still shows the
outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ...errors import BridgeError
from ...mirror.control import JobKind, Progress, ProgressCallback

logger = logging.getLogger(__name__)
KEEP = 20
LABELS: dict[JobKind, str] = {"repush": "Re-Push Future Events", "reconcile": "Reconcile"}


@dataclass(slots=True)
class Job:
    id: str
    kind: JobKind
    started: float
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
            "done": self.done,
            "total": self.total,
            "note": self.note,
            "finished": self.finished is not None,
            "ok": self.finished is not None and not self.error,
            "summary": self.summary,
            "error": self.error,
        }


class JobBusy(BridgeError):
    """A job is already running."""


class JobBoard:
    """Runs at most one job; remembers the last few."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def running(self) -> Job | None:
        return next((j for j in self._jobs.values() if j.finished is None), None)

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def latest(self) -> Job | None:
        return next(reversed(self._jobs.values()), None) if self._jobs else None

    def start(self, kind: JobKind, run: Callable[[ProgressCallback], Awaitable[str]]) -> Job:
        busy = self.running()
        if busy is not None:
            raise JobBusy(f"{busy.label} is still running; wait until it finishes.")
        job = Job(secrets.token_urlsafe(9), kind, time.time())
        self._jobs[job.id] = job
        while len(self._jobs) > KEEP:
            self._jobs.popitem(last=False)

        def progress(p: Progress) -> None:
            job.done, job.total, job.note = p.done, p.total, p.note

        async def body() -> None:
            logger.info("%s started from the admin page", job.label)
            try:
                job.summary = await run(progress)
            except BridgeError as exc:
                job.error = str(exc)
            except Exception:  # the page must learn the job ended; details go to the log
                logger.exception("%s failed", job.label)
                job.error = "It stopped because of an internal error; see the bridge's log."
            finally:
                job.finished = time.time()
                logger.info("%s finished: %s", job.label, job.error or job.summary)

        task = asyncio.create_task(body())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
