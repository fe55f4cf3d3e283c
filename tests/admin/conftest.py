"""Fixtures: the Google emulator and the bridge's web server, both real, on loopback ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.google_emulator.testing import EmulatorThread
from tests.admin.support import BridgeServer, Client, FakeMirror, with_fake_mirror


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread() as emu:
        yield emu


@pytest.fixture
def mirror_holder() -> dict[str, FakeMirror]:
    return {}


@pytest.fixture
def bridge(
    tmp_path: Path, emulator: EmulatorThread, mirror_holder: dict[str, FakeMirror]
) -> Iterator[BridgeServer]:
    with BridgeServer(
        tmp_path, emulator_url=emulator.base_url, prepare=with_fake_mirror(mirror_holder)
    ) as server:
        yield server


@pytest.fixture
def client(bridge: BridgeServer) -> Client:
    return Client(bridge.url)


@pytest.fixture
def admin(client: Client) -> Client:
    """A client signed in to the admin page."""
    reply = client.login()
    assert reply.status == 303 and reply.location == "/admin", reply.text
    return client
