"""With SQLite (one machine), ``sync --once``, ``repush`` and ``reconcile`` from the command line
do not write to Google beside ``serve``'s mirror: they wait for the Google writer's lease, and
refuse, naming the holder, while ``serve`` keeps it; once ``serve`` stops they run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from google_emulator.testing import EmulatorThread

from bridge import config
from bridge.store.db import SQLiteDatabase
from bridge.store.lease import GOOGLE_WRITER, Leases
from tests.mirror.support import ini_text, sign_in
from tests.proxy import ServeProcess
from tests.support import run_cli


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread() as emu:
        yield emu


def _holder(settings: config.Settings) -> str:
    db = SQLiteDatabase(settings.data_path(settings.store.path))
    try:
        lease = Leases(db).current(GOOGLE_WRITER)
        return lease.holder if lease is not None and lease.live else ""
    finally:
        db.close()


def test_commands_refuse_while_serve_writes_to_google(
    tmp_path: Path, emulator: EmulatorThread
) -> None:
    ini = tmp_path / "bridge.ini"
    text = ini_text(emulator.base_url, "lease_seconds = 2")
    ini.write_text(text.replace("[bridge]\n", "[bridge]\ninstance_name = shop-server\n", 1))
    settings = config.load(ini)
    sign_in(emulator, settings)
    with ServeProcess(ini):
        deadline = time.monotonic() + 30
        while _holder(settings) != "shop-server" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _holder(settings) == "shop-server"
        for command in (["sync", "--once"], ["repush", "--future"], ["reconcile"]):
            started = time.monotonic()
            done = run_cli("-c", str(ini), *command, "--timeout", "30")
            assert done.returncode == 1, (command, done.stdout, done.stderr)
            assert "waiting for shop-server to stop writing to Google" in done.stderr
            assert "shop-server is writing to Google" in done.stderr
            assert "Re-Push or Reconcile" in done.stderr
            assert time.monotonic() - started < 30  # waited one lease period, not forever
    # serve gave the lease up when it stopped: the command runs at once.
    done = run_cli("-c", str(ini), "sync", "--once", "--timeout", "60")
    assert done.returncode == 0, done.stderr
    assert "waiting for" not in done.stderr
