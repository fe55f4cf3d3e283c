"""Fixtures: the Google emulator and the bridge's web server, both real, on loopback ports."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google_emulator.testing import EmulatorThread

from tests.admin.support import BridgeServer, Client, FakeMirror, with_fake_mirror
from tests.support import ROOT

CHROMIUM = "/usr/bin/chromium"
"""Debian's Chromium; Playwright drives it and never downloads a browser of its own."""
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "artifacts" / "admin"
browser_only = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"{CHROMIUM} is missing (Debian package 'chromium'; make test installs it)",
    ),
]


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One Chromium for the admin package's browser tests (launching costs about a second).

    Package scope, not session: Playwright's sync API keeps an event loop running in the main
    thread while it is open, which breaks asyncio.run() in suites that run after this one.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def shot(page: Any, name: str) -> None:
    """A full-page screenshot kept as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


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
