"""Helpers to run the emulator in tests and benches.

- ``async with run_emulator(settings) as handle:`` serves in the current event loop
  (``handle.base_url``, ``handle.state``);
- ``with EmulatorThread(settings) as emu:`` serves from a daemon thread with its own loop, for
  synchronous clients such as python-fmrest: ``emu.base_url``, ``emu.control(method, path, body)``
  (the ``/_emulator/`` API), ``emu.load(table, rows)`` (the bulk loader), ``emu.advance(seconds)``,
  ``emu.expire_tokens()``, ``emu.add_fault(**rule)``, ``emu.stats()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from emulator_kit.serving import ServedThread

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


class EmulatorThread(ServedThread):
    """The emulator on a background thread; start/stop it or use it as a context manager."""

    thread_name = "filemaker-emulator"

    def __init__(self, settings: EmulatorSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or EmulatorSettings()
        self._handle: EmulatorHandle | None = None

    async def _serve(self) -> str:
        self._handle = await start(self.settings)
        return self._handle.base_url

    async def _close(self) -> None:
        if self._handle is not None:
            await self._handle.stop()
            self._handle = None

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
