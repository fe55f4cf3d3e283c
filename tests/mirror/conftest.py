"""Fixtures: one Google emulator for the session (generous quota; tests inject their own
faults), reset before each test; a fresh shop (config, store, CalDAV server) per test."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from google_emulator.settings import EmulatorSettings
from google_emulator.testing import EmulatorThread

from tests.mirror.support import Shop


@pytest.fixture(scope="session")
def _emulator() -> Iterator[EmulatorThread]:
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    settings = EmulatorSettings(
        user_rate_limit_per_min=100_000, project_rate_limit_per_min=1_000_000
    )
    with EmulatorThread(settings) as emu:
        yield emu


@pytest.fixture
def emu(_emulator: EmulatorThread) -> EmulatorThread:
    _emulator.control("POST", "reset")
    _emulator.control("DELETE", "faults")
    return _emulator


@pytest.fixture
def shop(tmp_path: Path, emu: EmulatorThread) -> Iterator[Shop]:
    s = Shop(tmp_path, emu)
    yield s
    s.close()
