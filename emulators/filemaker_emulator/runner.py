"""Start the emulator inside another program's event loop (``ipoint-bridge demo`` uses this).

``handle = await start(settings)`` serves on ``settings.host`` (port 0: a free one) and returns
``base_url``, the live ``state`` (to load rows with ``state.database(name).load(...)``) and
``await handle.stop()``.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from emulator_kit.serving import serve

from filemaker_emulator.app import STATE, create_app
from filemaker_emulator.state import EmulatorSettings, State


@dataclass(frozen=True, slots=True)
class EmulatorHandle:
    base_url: str
    runner: web.AppRunner
    state: State

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start(settings: EmulatorSettings | None = None) -> EmulatorHandle:
    """Serve until ``stop()``."""
    settings = settings or EmulatorSettings()
    app = create_app(settings)
    runner, base_url = await serve(app, settings.host, settings.port)
    return EmulatorHandle(base_url, runner, app[STATE])
