"""Probes and metrics for whoever runs the bridge: ``/healthz``, ``/readyz``, ``/metrics``.

- ``/healthz``: the process answers (liveness); never touches the database or Google.
- ``/readyz``: every part this instance runs, each named in the JSON answer (``readiness.py``,
  a registry other parts add their checks to): the store answers, the CalDAV server answers
  HTTP, and with the mirror on Google accepts the sign-in. The Google answer is the admin
  page's cached check (one token refresh per few minutes at most), so a probe every few seconds
  costs Google nothing.
- ``/metrics``: Prometheus text format 0.0.4, written here (a handful of lines needs no
  client library): records ingested, Google calls by outcome, queue depth, mirror lag.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from ..mirror.control import mirror_control
from ..runtime import local_caldav_url
from ..store import EventStore
from .admin.authstate import GOOGLE_ACCESS, ensure_google_access
from .filemaker import add_readiness, metric_samples
from .keys import SETTINGS, STORE
from .readiness import CHECK_TIMEOUT, Readiness, Verdict, readiness, readyz

logger = logging.getLogger(__name__)
DB_TIMEOUT = CHECK_TIMEOUT
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True, slots=True)
class StoreFigures:
    changes: int
    events: int


def _store_figures(store: EventStore) -> StoreFigures:
    with store.db.snapshot() as conn:
        changes = conn.execute("SELECT max(seq) FROM change_log")[0][0]
        events = conn.execute("SELECT count(*) FROM events WHERE deleted = 0")[0][0]
    return StoreFigures(int(changes or 0), int(events or 0))


async def store_figures(store: EventStore) -> StoreFigures:
    """Raises on any database failure or after ``DB_TIMEOUT`` seconds."""
    return await asyncio.wait_for(asyncio.to_thread(_store_figures, store), DB_TIMEOUT)


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def family(
    name: str, kind: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]]
) -> list[str]:
    """One metric family in the text exposition format."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
        lines.append(
            f"{name}{{{label_text}}} {_number(value)}" if label_text else f"{name} {_number(value)}"
        )
    return lines


async def metrics(request: web.Request) -> web.Response:
    lines: list[str] = []
    try:
        figures = await store_figures(request.app[STORE])
        db_up = 1.0
    except Exception as exc:  # reported as a gauge, not as a failed scrape
        logger.warning("metrics: database unavailable: %s", type(exc).__name__)
        figures, db_up = None, 0.0
    lines += family(
        "ipoint_bridge_database_up", "gauge", "1 when the event store answers.", [({}, db_up)]
    )
    if figures is not None:
        lines += family(
            "ipoint_bridge_records_ingested_total",
            "counter",
            "Event changes written to the store (creates, updates, deletes).",
            [({}, figures.changes)],
        )
        lines += family(
            "ipoint_bridge_events",
            "gauge",
            "Live iPoint events in the store.",
            [({}, figures.events)],
        )
    state = request.app[GOOGLE_ACCESS].cache.last
    if state is not None:
        lines += family(
            "ipoint_bridge_google_authorized",
            "gauge",
            "1 when Google accepted the sign-in at the last check.",
            [({}, 1.0 if state.ok else 0.0)],
        )
    mirror = mirror_control(request.app)
    if mirror is not None:
        figures_m = mirror.metrics()
        lines += family(
            "ipoint_bridge_google_calls_total",
            "counter",
            "Google Calendar API calls by outcome (batched calls count one by one).",
            [({"outcome": k}, v) for k, v in sorted(figures_m.google_calls.items())],
        )
        lines += family(
            "ipoint_bridge_mirror_queue_depth",
            "gauge",
            "Changes waiting to be written to Google.",
            [({}, figures_m.queue_depth)],
        )
        lines += family(
            "ipoint_bridge_mirror_lag_seconds",
            "gauge",
            "Age of the oldest change not yet in Google (0 when none waits).",
            [({}, figures_m.lag_seconds or 0.0)],
        )
    for name, kind, help_text, samples in metric_samples(request.app):
        lines += family(name, kind, help_text, samples)
    return web.Response(
        body=("\n".join(lines) + "\n").encode(), headers={"Content-Type": CONTENT_TYPE}
    )


def _add_checks(app: web.Application, registry: Readiness) -> None:
    settings = app[SETTINGS]

    async def store() -> Verdict:
        await store_figures(app[STORE])
        return Verdict(True, "ok")

    registry.add("store", store)
    if settings.caldav.enabled:
        http: dict[str, aiohttp.ClientSession] = {}

        async def http_ctx(app: web.Application) -> AsyncIterator[None]:
            timeout = aiohttp.ClientTimeout(total=CHECK_TIMEOUT)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                http["session"] = session
                yield

        app.cleanup_ctx.append(http_ctx)

        async def caldav() -> Verdict:
            # Any HTTP answer below 500 means Radicale's threads are serving requests.
            url = local_caldav_url(settings) + "/"
            async with http["session"].options(url) as reply:
                return Verdict(reply.status < 500, f"HTTP {reply.status}")

        registry.add("caldav", caldav)
    access = app[GOOGLE_ACCESS]

    async def google() -> Verdict:
        if not settings.google.enabled:
            return Verdict(True, "disabled")
        state = await access.state()
        return Verdict(state.ok, state.kind)

    registry.add("google", google)
    add_readiness(app, registry)


def setup_health(app: web.Application) -> None:
    ensure_google_access(app)
    _add_checks(app, readiness(app))
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
