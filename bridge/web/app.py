"""The web server's application factory: the ingest API, feeds, admin page, health, and the
mirror as a background task, each set up by its own module."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from ..config import Settings
from ..runtime import instance_name, open_store
from ..store import EventStore
from ..store.lease import GOOGLE_WRITER, Leases
from .admin import setup_admin
from .api import setup_api
from .feeds import setup_feeds
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
    if mirror and settings.google.enabled:
        from ..mirror.service import mirror_ctx

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
