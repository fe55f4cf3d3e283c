"""``ipoint-bridge sync --once`` / ``repush --future`` / ``reconcile`` exit codes and words."""

from __future__ import annotations

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
