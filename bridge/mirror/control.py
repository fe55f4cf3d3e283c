"""What the running mirror shows and what may be started from outside: its status, job and
metrics types and the ``MirrorControl`` protocol the admin page and ``/metrics`` use.

The mirror owns these types; the web layer imports them (never the other way round). The daemon
(``service.MirrorService``) implements ``MirrorControl``; the web app puts it under
``MIRROR_CONTROL``, where the admin page's tests put an in-memory one instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from aiohttp import web

JobKind = Literal["repush", "reconcile"]
JobState = Literal["queued", "running", "done", "failed"]


@dataclass(frozen=True, slots=True)
class CalendarStatus:
    """One mirrored calendar as the mirror knows it (defaults: not mirrored yet)."""

    key: str = ""
    """The calendar's key in the status tables, e.g. ``user:chris``."""
    name: str = ""
    login: str | None = None
    """The technician's login for an iPoint calendar; None for an extra feed."""
    google_id: str = ""
    """Google's calendar id; empty until the calendar is created."""
    html_link: str = ""
    acl: tuple[str, ...] = ()
    """Sharing rules as the mirror last set them, e.g. ``reader: chris@example.com``."""
    public_ical_url: str = ""
    last_mirrored: float | None = None
    """Epoch seconds of the last push that went through."""
    pending: int = 0
    """Changes queued for Google."""
    rejected: int = 0
    """Changes Google refused for their current content (sent again when they change)."""
    last_error: str = ""
    """Plain words, empty when the last pass went well."""

    @property
    def waiting(self) -> int:
        """Changes not in Google yet, refused ones included."""
        return self.pending + self.rejected


@dataclass(frozen=True, slots=True)
class JobStatus:
    """A Re-Push or Reconcile started from the admin page."""

    kind: JobKind
    state: JobState
    done: int = 0
    total: int = 0
    message: str = ""


@dataclass(frozen=True, slots=True)
class MirrorStatus:
    enabled: bool
    authorized: bool
    auth_reason: str
    paused_until: float
    pending: int
    lag_seconds: float | None
    last_pass: float | None
    calendars: tuple[CalendarStatus, ...] = ()
    job: JobStatus | None = None
    """The running job, else the last one that finished."""


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

    def calendar_status(self, login: str) -> CalendarStatus | None:
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


MIRROR_CONTROL: web.AppKey[MirrorControl] = web.AppKey("mirror_control", MirrorControl)


def mirror_control(app: web.Application) -> MirrorControl | None:
    """The mirror behind this app, if one runs."""
    return app.get(MIRROR_CONTROL)
