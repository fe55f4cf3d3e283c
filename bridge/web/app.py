"""The web server's application factory: the ingest API, feeds, admin page, health, each set
up by its own module, and the Google mirror daemon as a background task (``mirror_ctx``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from ..config import Settings
from ..mirror.control import MIRROR_CONTROL
from ..mirror.service import MIRROR, MirrorService
from ..runtime import instance_name, open_store
from ..store import EventStore
from ..store.lease import GOOGLE_WRITER, Leases
from .admin import setup_admin
from .api import setup_api
from .feeds import setup_feeds
from .filemaker import setup_filemaker
from .health import setup_health
from .keys import SETTINGS, STORE
from .readiness import Verdict, readiness

logger = logging.getLogger(__name__)


def create_app(
    settings: Settings, store: EventStore | None = None, *, mirror: bool = True
) -> web.Application:
    """Build the web application. Without ``store`` the configured one is opened (and closed
    on cleanup); ``mirror=False`` leaves the Google mirror out (tests, `import`)."""
    app = web.Application(client_max_size=settings.web.max_body_bytes)
    app[SETTINGS] = settings

    async def store_ctx(app: web.Application) -> AsyncIterator[None]:
        own = store is None
        app[STORE] = open_store(settings) if store is None else store
        yield
        if own:
            app[STORE].close()

    app.cleanup_ctx.append(store_ctx)
    setup_api(app)
    setup_feeds(app)
    setup_admin(app)
    setup_health(app)
    setup_filemaker(app)
    if mirror and settings.google.enabled:
        app.cleanup_ctx.append(mirror_ctx)
        _add_writer_check(app, settings)
    return app


def _add_writer_check(app: web.Application, settings: Settings) -> None:
    """``/readyz`` names the instance writing to Google; informational: an instance waiting
    to take over is as ready as the writer."""
    me = instance_name(settings)

    async def writer() -> Verdict:
        leases = Leases(app[STORE].db, seconds=settings.mirror.lease_seconds)
        lease = await asyncio.to_thread(leases.current, GOOGLE_WRITER)
        if lease is None or not lease.live:
            return Verdict(False, "nobody")
        return Verdict(True, lease.holder + (" (this instance)" if lease.holder == me else ""))

    readiness(app).add("google_writer", writer, required=False)


async def mirror_ctx(app: web.Application) -> AsyncIterator[None]:
    """``app.cleanup_ctx.append(mirror_ctx)``: the Google mirror daemon runs while the app runs,
    under ``MIRROR`` and, for the admin page and ``/metrics``, ``MIRROR_CONTROL``."""
    service = MirrorService(app[SETTINGS], app[STORE])
    app[MIRROR] = service
    app[MIRROR_CONTROL] = service
    await service.start()
    try:
        yield
    finally:
        await service.stop()
