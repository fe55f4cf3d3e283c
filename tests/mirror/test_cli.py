"""``ipoint-bridge sync [--once]`` / ``repush --future`` / ``reconcile`` exit codes and words."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bridge.cli import main
from bridge.google.credentials import credentials_path
from tests.mirror.support import Shop, record


def test_sync_once_exit_codes(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    shop.put(record("a"), record("b", user="sam"))
    assert main(["-c", str(shop.path), "sync", "--once"]) == 0
    assert "in step with Google" in capsys.readouterr().out
    assert len(shop.events("chris")) == 1 and len(shop.events("sam")) == 1
    assert main(["-c", str(shop.path), "repush", "--future"]) == 0
    assert "2 events queued again" in capsys.readouterr().out
    assert main(["-c", str(shop.path), "reconcile"]) == 0
    assert "2 calendars listed" in capsys.readouterr().out
    credentials_path(shop.settings).unlink()
    shop.put(record("c"))
    assert main(["-c", str(shop.path), "sync", "--once"]) == 1
    err = capsys.readouterr().err
    assert "not signed in to Google" in err and "auth google" in err


def test_sync_refuses_when_the_mirror_is_off(
    shop: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    shop.path.write_text(shop.path.read_text().replace("enabled = yes", "enabled = no"))
    assert main(["-c", str(shop.path), "sync", "--once"]) == 2
    assert "mirror is off" in capsys.readouterr().err


def test_sync_without_once_runs_the_daemon_until_interrupted(shop: Shop) -> None:
    """``sync`` without ``--once`` is the daemon of ``serve`` (the same loop and pass): a change
    made while it runs reaches Google, and Ctrl-C ends it with exit 0."""
    shop.put(record("a"))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridge", "-c", str(shop.path), "sync"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )

    def titles() -> set[str]:
        try:
            return {e["summary"] for e in shop.events("chris").values()}
        except AssertionError:  # no Google calendar yet
            return set()

    def wait_for(title: str) -> None:
        deadline = time.time() + 60
        while time.time() < deadline and title not in titles():
            time.sleep(0.2)
        assert title in titles()

    try:
        wait_for("Job a")
        shop.put(record("b", title="While running"))
        wait_for("While running")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
