"""One mirror pass: the only sequence of work that makes Google equal to the sources. The daemon
inside ``serve`` (``service``), ``sync`` (once or in a loop), ``repush`` and ``reconcile``
(``commands.mirror``) all run ``mirror_pass``; they differ only in the job they hand it and in
whether it pushes once or until converged.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from .engine import Health, Mirror
from .poll import poll
from .push import PushReport, create_calendars, maintain, push
from .sources import Target

PUSH_BUDGET_S = 10.0
"""Longest push of a daemon pass, so a large backlog never delays new changes long (the queue
is sent newest change first)."""

RETRY_PAUSE_S = 2.0
"""Pause between push rounds of a converging pass when the last round settled nothing."""

Job = Callable[[list[Target]], Awaitable[None]]
"""Work between reading the sources and writing Google (queue everything again, reconcile)."""


@dataclass(frozen=True, slots=True)
class PassReport:
    push: PushReport
    """The last push round."""
    health: Health


async def mirror_pass(
    mirror: Mirror,
    session: aiohttp.ClientSession,
    *,
    job: Job | None = None,
    allow_empty: bool = False,
    converge_by: float | None = None,
) -> PassReport:
    """Make Google equal to the sources, as far as one pass can.

    1. Targets: the calendars the configuration and the users name.
    2. Poll: read each source's changes since its stored position into the status tables
       (a source that reads empty all of a sudden is refused unless ``allow_empty``).
    3. Job: ``job(targets)`` if given (Re-Push queues events again, Reconcile lists Google
       and queues the differences).
    4. Calendars: create the Google calendars that queued changes need.
    5. Push: send the queue, newest change first, until it is empty, the deadline passes or
       Google stops accepting writes (quota, sign-in).
    6. Maintain: names, zones and sharing of the existing calendars.
    7. Repeat 4-6 when a calendar turned out deleted by hand (it is created again at once),
       and, with ``converge_by``, while something is queued and the last round made progress.
    8. Health: what still differs, then record each calendar's error of this pass.

    ``converge_by`` (epoch seconds) is the deadline of a command-line pass; without it (the
    daemon) one push of at most ``PUSH_BUDGET_S`` is made and the rest waits for the next pass.
    """
    targets = await mirror.run(mirror.targets)
    await poll(mirror, session, targets, allow_empty=allow_empty)
    if job is not None:
        await job(targets)
    deadline = converge_by if converge_by is not None else time.time() + PUSH_BUDGET_S
    while True:
        await mirror.run(create_calendars, mirror, targets)
        report = await mirror.run(push, mirror, targets, deadline)
        await mirror.run(maintain, mirror, targets)
        health = await mirror.run(mirror.health)
        if report.blocked or not health.pending or time.time() >= deadline:
            break
        if report.calendars_gone:
            continue
        if converge_by is None or not (report.sent or report.settled):
            break
        if not report.settled:
            await asyncio.sleep(min(RETRY_PAUSE_S, max(0.0, deadline - time.time())))
    await mirror.run(mirror.finish_pass, targets)
    return PassReport(report, health)
