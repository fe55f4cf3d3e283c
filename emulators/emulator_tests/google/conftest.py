"""Fixtures: one emulator thread for the session, reset before each test that uses it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google_emulator.testing import EmulatorThread

from emulator_tests.google.helpers import Api

USER = "demo@example.com"
OTHER = "tech@example.com"


@pytest.fixture(scope="session")
def _shared_emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread() as emu:
        yield emu


@pytest.fixture
def emu(_shared_emulator: EmulatorThread) -> EmulatorThread:
    _shared_emulator.control("POST", "reset")
    return _shared_emulator


@pytest.fixture
def api(emu: EmulatorThread) -> Api:
    return Api(emu, USER)
