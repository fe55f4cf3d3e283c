"""Helpers to run the emulator in tests and benches.

- ``async with run_emulator(settings) as handle:`` serves in the current event loop
  (``handle.base_url``, ``handle.state``);
- ``with EmulatorThread(settings) as emu:`` serves from a daemon thread with its own loop, for
  synchronous clients such as python-fmrest: ``emu.base_url``, ``emu.control(method, path, body)``
  (the ``/_emulator/`` API), ``emu.load(table, rows)`` (the bulk loader), ``emu.advance(seconds)``,
  ``emu.expire_tokens()``, ``emu.add_fault(**rule)``, ``emu.stats()``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any

from filemaker_emulator.ipoint_file import DATABASE
from filemaker_emulator.runner import EmulatorHandle, start
from filemaker_emulator.state import EmulatorSettings


@asynccontextmanager
async def run_emulator(settings: EmulatorSettings | None = None) -> AsyncIterator[EmulatorHandle]:
    """Serve the emulator for the duration of the block."""
    handle = await start(settings)
    try:
        yield handle
    finally:
        await handle.stop()


class EmulatorThread:
    """The emulator on a background thread; start/stop it or use it as a context manager."""

    def __init__(self, settings: EmulatorSettings | None = None) -> None:
        self.settings = settings or EmulatorSettings()
        self.base_url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._handle: EmulatorHandle | None = None

    def start(self) -> str:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=loop.run_forever, name="filemaker-emulator", daemon=True
        )
        self._thread.start()
        self._handle = asyncio.run_coroutine_threadsafe(start(self.settings), loop).result(30)
        self.base_url = self._handle.base_url
        return self.base_url

    def stop(self) -> None:
        loop, handle = self._loop, self._handle
        if loop is None:
            return
        if handle is not None:
            asyncio.run_coroutine_threadsafe(handle.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=30)
        loop.close()
        self._loop = self._handle = self._thread = None

    def __enter__(self) -> EmulatorThread:
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
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base_url}/_emulator/{urllib.parse.quote(path.lstrip('/'))}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data is not None else {},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read() or b"null")

    def load(
        self,
        table: str,
        rows: Iterable[Mapping[str, Any]],
        database: str = DATABASE,
        dateformats: int = 0,
    ) -> list[int]:
        """Create many records in one call; returns their record ids."""
        path = f"databases/{database}/tables/{table}"
        answer = self.control(
            "POST", f"{path}/records", {"records": list(rows), "dateformats": dateformats}
        )
        ids: list[int] = answer["recordIds"]
        return ids

    def reset(self) -> None:
        self.control("POST", "reset")

    def advance(self, seconds: float) -> None:
        self.control("POST", "clock", {"advance": seconds})

    def expire_tokens(self) -> int:
        expired: int = self.control("POST", "sessions/expire")["expired"]
        return expired

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self.control("POST", "faults", rule)
        return answer

    def clear_faults(self) -> None:
        self.control("DELETE", "faults")

    def stats(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.control("GET", "stats")
        return answer
