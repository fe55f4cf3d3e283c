"""Start the emulator inside another program's event loop (``ipoint-bridge demo`` uses this).

``await start_emulator(state_path, port=..., account=..., client_id=..., client_secret=...,
redirect_uri=...)`` serves on 127.0.0.1 with one account and one registered OAuth client, keeps
its state in ``state_path`` across restarts and returns a handle with ``base_url`` and
``await handle.stop()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from emulator_kit.serving import serve

from google_emulator.app import create_app
from google_emulator.settings import AccountSpec, EmulatorSettings, OAuthClientSpec


@dataclass(frozen=True, slots=True)
class EmulatorHandle:
    base_url: str
    runner: web.AppRunner

    async def stop(self) -> None:
        """Stop serving; the state file is written one last time."""
        await self.runner.cleanup()


async def start(settings: EmulatorSettings) -> EmulatorHandle:
    """Serve ``settings`` until ``stop()`` (``settings.port`` 0: a free port is chosen)."""
    runner, base_url = await serve(create_app(settings), settings.host, settings.port)
    return EmulatorHandle(base_url, runner)


async def start_emulator(
    state_path: Path,
    *,
    port: int,
    account: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    time_zone: str = "UTC",
) -> EmulatorHandle:
    """The demo's emulator: one account, one client that also accepts loopback redirects."""
    settings = EmulatorSettings(
        port=port,
        state_path=state_path,
        accounts=(AccountSpec(account, time_zone),),
        # "installed" also allows loopback redirects, so `ipoint-bridge auth google` works too.
        clients=(OAuthClientSpec(client_id, client_secret, "installed", (redirect_uri,)),),
    )
    return await start(settings)
