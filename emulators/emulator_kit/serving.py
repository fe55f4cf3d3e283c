"""Serving an emulator: on a port of the current loop, or from a loop on a daemon thread.

- ``runner, base_url = await serve(app, host, port)``: port 0 picks a free one;
- ``LoopThread(name)``: ``start()``, ``run(coroutine)`` (runs it on the thread's loop and waits),
  ``stop()``; what the ``EmulatorThread`` of each emulator is built on, for synchronous clients;
- ``ServedThread``: the base of each emulator's ``EmulatorThread`` (start/stop, context
  manager, ``control``); a subclass says how to start and stop its server;
- ``control_call(base_url, method, path, body)``: one JSON call to ``/_emulator/``;
- ``await wait_for_signal()``: until SIGINT or SIGTERM (``python -m <emulator>``).
"""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import urllib.parse
import urllib.request
from collections.abc import Coroutine, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

T = TypeVar("T")


async def serve(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, str]:
    """Serve ``app`` until ``runner.cleanup()``; returns the runner and the base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    assert server is not None
    bound = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    return runner, f"http://{host}:{bound}"


class LoopThread:
    """An asyncio event loop running on a daemon thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name=self.name, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run ``coroutine`` on the thread's loop and return its result."""
        assert self._loop is not None, "start() first"
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=30)
        loop.close()
        self._loop = self._thread = None

    @property
    def running(self) -> bool:
        return self._loop is not None


def control_call(
    base_url: str, method: str, path: str, body: Mapping[str, Any] | None = None
) -> Any:
    """Call ``/_emulator/<path>`` (spaces in names are quoted); returns the JSON answer."""
    data = json.dumps(body).encode() if body is not None else None
    quoted = urllib.parse.quote(path.lstrip("/"), safe="/?=&@:+,;%")
    request = urllib.request.Request(
        f"{base_url}/_emulator/{quoted}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"} if data is not None else {},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read() or b"null")


class ServedThread:
    """An emulator served from a ``LoopThread``; subclasses implement ``_serve`` and ``_close``."""

    thread_name = "emulator"

    def __init__(self) -> None:
        self.base_url = ""
        self._thread = LoopThread(self.thread_name)

    async def _serve(self) -> str:
        """Start serving on the thread's loop; returns the base URL."""
        raise NotImplementedError

    async def _close(self) -> None:
        """Stop serving (on the thread's loop)."""
        raise NotImplementedError

    def start(self) -> str:
        self._thread.start()
        self.base_url = self._thread.run(self._serve())
        return self.base_url

    def stop(self) -> None:
        if not self._thread.running:
            return
        self._thread.run(self._close())
        self._thread.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def control(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """Call the control API (``path`` relative to ``/_emulator/``); returns its JSON."""
        return control_call(self.base_url, method, path, body)


async def wait_for_signal() -> None:
    """Return once SIGINT or SIGTERM arrives."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
