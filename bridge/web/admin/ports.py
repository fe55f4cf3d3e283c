"""The seams between the admin page and the mirror: what the page shows and what it may start.

The mirror daemon (``bridge.mirror.service``) is adapted to ``MirrorControl`` in
``mirror_port``; tests put an in-memory implementation under ``MIRROR_CONTROL``. The admin page
never talks to Google for calendar data itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web


@dataclass(frozen=True, slots=True)
class CalendarMirrorStatus:
    """What the mirror knows about one technician's Google calendar."""

    calendar_id: str = ""
    calendar_link: str = ""
    shared_with: tuple[str, ...] = ()
    """ACL rules as the mirror last set them, e.g. ``reader: chris@example.com``."""
    public_ical_url: str = ""
    last_mirrored: float | None = None
    """Epoch seconds of the last successful write or check."""
    pending: int = 0
    last_error: str = ""
    """Plain words, empty when the last pass went well."""


@dataclass(frozen=True, slots=True)
class Progress:
    done: int
    total: int
    note: str = ""


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True, slots=True)
class MirrorMetrics:
    """Counters for ``/metrics``."""

    google_calls: Mapping[str, int]
    """Calls by outcome (``ok``, ``rate_limited``, ``server_error``...)."""
    queue_depth: int
    lag_seconds: float | None
    """Age of the oldest change not yet in Google; None when nothing waits."""


class MirrorControl(Protocol):
    """The running mirror as the admin page and the health endpoints see it."""

    def calendar_status(self, login: str) -> CalendarMirrorStatus | None:
        """None when the mirror has not handled this calendar yet."""
        ...

    async def repush_future(self, progress: ProgressCallback) -> str:
        """Send every event from today on again; returns a one-line summary.

        Raises:
            BridgeError: with a plain-words message when it cannot run (not authorized...).
        """
        ...

    async def reconcile(self, progress: ProgressCallback) -> str:
        """List the Google calendars and repair hand edits; returns a one-line summary."""
        ...

    def metrics(self) -> MirrorMetrics: ...

    def writes_to_google(self) -> bool:
        """Whether this instance is the one writing to Google (holds the mirror's lease): the
        one that runs the jobs queued from any instance's admin page."""
        ...


MIRROR_CONTROL: web.AppKey[MirrorControl] = web.AppKey("admin_mirror_control", MirrorControl)


def mirror_port(app: web.Application) -> MirrorControl | None:
    """The mirror behind this app, if one runs (set by tests or adapted from the daemon)."""
    return app.get(MIRROR_CONTROL)
