"""Running the bridge: CalDAV server thread, web server (API, feeds, admin, mirror) until SIGTERM.

Prints one line per listening service with its real address (``port = 0`` picks a free one), so
scripts and tests can find them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .config import Settings
from .exposure import exposure_warnings
from .runtime import open_store
from .web.app import create_app

logger = logging.getLogger(__name__)


def announce(name: str, url: str) -> None:
    print(f"{name}: {url}", flush=True)


async def start_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, str]:
    """Start ``app`` on host:port and return the runner and its real base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    real_port = sockets[0].getsockname()[1] if sockets else port
    return runner, f"http://{host}:{real_port}"


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT; installed first thing, so a stop that arrives while
    the servers are still starting is not lost (nor kills the process half-way)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def serve(
    settings: Settings,
    *,
    before: Callable[[], Awaitable[Any]] | None = None,
    announce_extra: Callable[[str, str | None], None] | None = None,
) -> None:
    """Run every configured part until SIGTERM or SIGINT."""
    stop = _stop_on_signals()
    store = open_store(settings)
    for warning in exposure_warnings(settings):
        logger.warning("%s", warning)
    caldav: Any = None
    runner: web.AppRunner | None = None
    try:
        if before is not None:
            await before()
        if settings.caldav.enabled:
            from .caldav import start_caldav

            caldav = await asyncio.to_thread(start_caldav, settings, store=store)
            announce("caldav", caldav.url)
            if caldav.port != settings.caldav.port:
                # port 0 picked a free port: everything else (mirror, admin page) must see it.
                settings = dataclasses.replace(
                    settings, caldav=dataclasses.replace(settings.caldav, port=caldav.port)
                )
        app = create_app(settings, store)
        runner, url = await start_site(app, settings.web.host, settings.web.port)
        announce("web", url)
        if announce_extra is not None:
            announce_extra(url, caldav.url if caldav else None)
        print("ready", flush=True)
        await stop.wait()
        logger.info("stopping")
    finally:
        if runner is not None:
            await runner.cleanup()
        if caldav is not None:
            await asyncio.to_thread(caldav.stop)
        store.close()


def run(settings: Settings, **kwargs: Any) -> int:
    try:
        asyncio.run(serve(settings, **kwargs))
    except OSError as exc:
        print(f"error: cannot listen: {exc}", file=sys.stderr)
        return 1
    return 0
