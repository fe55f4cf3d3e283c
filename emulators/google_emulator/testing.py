"""Helpers to run the emulator in tests, benches and ``demo``.

- ``async with run_emulator(settings) as base_url:`` serves on 127.0.0.1 (port 0 by default) in
  the current event loop.
- ``with EmulatorThread(settings) as emu:`` serves from a daemon thread with its own event loop,
  for synchronous code such as google-api-python-client; ``emu.base_url``, ``emu.control(...)``
  (the ``/_emulator/`` API), ``emu.authorized_user_info(email, scopes)`` (a dict for
  ``google.oauth2.credentials.Credentials.from_authorized_user_info``) and
  ``emu.credentials(email, scopes)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from emulator_kit.serving import ServedThread

from google_emulator.runner import start
from google_emulator.settings import EmulatorSettings

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"


def api_endpoint(base_url: str) -> str:
    """What to pass as ``client_options={"api_endpoint": ...}`` to ``build("calendar", "v3")``.

    google-api-python-client uses ``api_endpoint`` *instead of* ``rootUrl + servicePath``, so it
    must include ``calendar/v3/`` (Google's own value is ``https://www.googleapis.com/calendar/v3/``).
    """
    return base_url.rstrip("/") + "/calendar/v3/"


def batch_uri(base_url: str) -> str:
    """``BatchHttpRequest(batch_uri=...)``: ``rootUrl + batchPath`` of the discovery document."""
    return base_url.rstrip("/") + "/batch/calendar/v3"


async def _start(settings: EmulatorSettings) -> tuple[web.AppRunner, str]:
    handle = await start(settings)
    return handle.runner, handle.base_url


@asynccontextmanager
async def run_emulator(settings: EmulatorSettings | None = None) -> AsyncIterator[str]:
    """Serve the emulator for the duration of the block; yields its base URL."""
    runner, base_url = await _start(settings or EmulatorSettings())
    try:
        yield base_url
    finally:
        await runner.cleanup()


class EmulatorThread(ServedThread):
    """The emulator on a background thread; start/stop it or use it as a context manager."""

    thread_name = "google-emulator"

    def __init__(self, settings: EmulatorSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or EmulatorSettings()
        self._runner: web.AppRunner | None = None

    async def _serve(self) -> str:
        self._runner, base_url = await _start(self.settings)
        return base_url

    async def _close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_endpoint(self) -> str:
        return api_endpoint(self.base_url)

    @property
    def batch_uri(self) -> str:
        return batch_uri(self.base_url)

    def authorized_user_info(
        self, email: str, scopes: list[str] | None = None, client_id: str | None = None
    ) -> dict[str, Any]:
        """Mint a grant for ``email`` (no consent page) and return authorized-user credentials."""
        body: dict[str, Any] = {"email": email, "scopes": scopes or [CALENDAR_SCOPE]}
        if client_id:
            body["client_id"] = client_id
        info: dict[str, Any] = self.control("POST", "oauth/tokens", body)
        return info

    def credentials(self, email: str, scopes: list[str] | None = None) -> Any:
        """``google.oauth2.credentials.Credentials`` for ``email``, refreshing at the emulator."""
        from google.oauth2.credentials import Credentials

        info = self.authorized_user_info(email, scopes)
        return Credentials(  # type: ignore[no-untyped-call]
            token=info["access_token"],
            refresh_token=info["refresh_token"],
            token_uri=info["token_uri"],
            client_id=info["client_id"],
            client_secret=info["client_secret"],
            scopes=info["scopes"],
        )
