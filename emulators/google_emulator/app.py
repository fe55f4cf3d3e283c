"""The aiohttp application: Google's paths wired to the engine, plus the control API.

``create_app(settings)`` builds it; state is loaded from ``settings.state_path`` at start-up,
saved every ``save_interval_s`` when it changed, and once more at shutdown (``cleanup_ctx``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from multidict import CIMultiDict, MultiDict

from google_emulator import batch, control, ical, oauth, persist
from google_emulator.api import ApiRequest
from google_emulator.engine import Engine
from google_emulator.settings import EmulatorSettings

logger = logging.getLogger(__name__)

ENGINE = web.AppKey("google_emulator_engine", Engine)
SETTINGS = web.AppKey("google_emulator_settings", EmulatorSettings)


def _base(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


async def _api(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    api_request = ApiRequest(
        method=request.method,
        raw_path=request.raw_path.split("?", 1)[0],
        query=MultiDict(request.query),
        headers=CIMultiDict(request.headers),
        body=await request.read(),
        base_url=_base(request),
    )
    answer = await engine.call(api_request)
    if answer.drop_connection and request.transport is not None:
        # "lose response" fault, drop mode: the write happened, the connection dies unanswered.
        request.transport.abort()
        return web.Response(status=503)  # never reaches the client: the transport is gone
    return web.Response(status=answer.status, body=answer.body or None, headers=answer.headers)


Handler = Callable[[web.Request, Engine], Awaitable[web.StreamResponse]]


def _bind(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def bound(request: web.Request) -> web.StreamResponse:
        return await handler(request, request.app[ENGINE])

    return bound


async def _persistence(app: web.Application) -> AsyncIterator[None]:
    engine, settings = app[ENGINE], app[SETTINGS]
    path = settings.state_path
    if path is None:
        yield
        return
    if persist.load(engine, path):
        logger.info("emulator state loaded from %s", path)

    async def saver() -> None:
        saved = engine.version()
        while True:
            await asyncio.sleep(settings.save_interval_s)
            if engine.version() != saved:
                persist.save(engine, path)
                saved = engine.version()

    task = asyncio.create_task(saver())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        persist.save(engine, path)


def create_app(settings: EmulatorSettings | None = None) -> web.Application:
    """The emulator as an aiohttp application."""
    settings = settings or EmulatorSettings()
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[SETTINGS] = settings
    app[ENGINE] = Engine(settings)
    r = app.router
    r.add_route("*", "/calendar/v3/{tail:.*}", _api)
    r.add_post("/batch/calendar/v3", _bind(batch.handle))
    r.add_get("/calendar/ical/{calendarId}/{kind}/basic.ics", _bind(ical.handle))
    for path in ("/o/oauth2/v2/auth", "/o/oauth2/auth"):
        r.add_get(path, _bind(oauth.authorize))
    r.add_post("/signin/oauth/consent", _bind(oauth.consent))
    for path in ("/token", "/o/oauth2/token"):
        r.add_post(path, _bind(oauth.token))
    for path in ("/revoke", "/o/oauth2/revoke"):
        r.add_post(path, _bind(oauth.revoke))
    for path in ("/tokeninfo", "/oauth2/v3/tokeninfo"):
        r.add_get(path, _bind(oauth.tokeninfo))
    for path in ("/oauth2/v3/userinfo", "/v1/userinfo"):
        r.add_get(path, _bind(oauth.userinfo))
    control.setup(app, app[ENGINE])
    app.cleanup_ctx.append(_persistence)
    return app
