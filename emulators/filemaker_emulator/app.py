"""The aiohttp application: the Data API under ``/fmi/data/`` and the control API under
``/_emulator/``, a prefix FileMaker Server never uses.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from filemaker_emulator import api, control
from filemaker_emulator.errors import FmError, envelope
from filemaker_emulator.ipoint_file import IPOINT_FILE
from filemaker_emulator.state import EmulatorSettings, State

logger = logging.getLogger(__name__)

STATE = web.AppKey("filemaker_emulator_state", State)

_WEB_SERVER_PAGE = "<html><head><title>{0}</title></head><body><h1>{0}</h1></body></html>"


async def _data_api(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    path = request.path
    state.requests[f"{request.method} {path}"] += 1
    state.requests["total"] += 1
    delay = state.faults.latency_ms(path)
    if delay:
        await asyncio.sleep(delay / 1000)
    rule = state.faults.fire(path)
    if rule is not None:
        if rule.kind == "unreachable":
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=503)  # never reaches the client: the transport is gone
        if rule.kind == "http_error":
            title = f"{rule.status} Service Unavailable" if rule.status == 503 else str(rule.status)
            return web.Response(
                status=rule.status, text=_WEB_SERVER_PAGE.format(title), content_type="text/html"
            )
        error = FmError(rule.code)
        return web.Response(
            status=error.http_status,
            body=envelope(None, rule.code, error.message),
            content_type="application/json",
        )
    try:
        status, body, headers = await api.dispatch(request, state)
    except FmError as exc:
        status, body, headers = exc.http_status, envelope(None, exc.code, exc.message), {}
    logger.debug("%s %s -> %s", request.method, path, status)
    return web.Response(status=status, body=body, headers=headers, content_type="application/json")


def create_app(settings: EmulatorSettings | None = None) -> web.Application:
    """The emulator as an aiohttp application (no files given: the iPoint-like demo file)."""
    settings = settings or EmulatorSettings()
    if not settings.files:
        settings = EmulatorSettings(
            host=settings.host,
            port=settings.port,
            files=(IPOINT_FILE,),
            idle_seconds=settings.idle_seconds,
            max_body_bytes=settings.max_body_bytes,
        )
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[STATE] = State(settings)
    app.router.add_route("*", "/fmi/data/{tail:.*}", _data_api)
    control.setup(app, app[STATE])
    return app
