"""Fixtures: one FileMaker emulator thread for the session, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from filemaker_emulator.testing import EmulatorThread

from emulator_tests.filemaker.helpers import DataApi


@pytest.fixture(scope="session")
def _shared_emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread() as emu:
        yield emu


@pytest.fixture
def emu(_shared_emulator: EmulatorThread) -> EmulatorThread:
    _shared_emulator.reset()
    return _shared_emulator


@pytest.fixture
def fm(emu: EmulatorThread) -> DataApi:
    """A logged-in Data API client of the iPoint file."""
    api = DataApi(emu.base_url)
    api.login()
    return api
