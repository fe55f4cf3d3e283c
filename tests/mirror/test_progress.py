"""Long mirror commands (``sync --once``, ``repush``, ``reconcile``) show progress on standard
error: plain lines when not on a terminal. The terminal bar: tests/foundation/test_progress.py."""

from __future__ import annotations

import re

import pytest

from bridge.cli import main
from tests.mirror.support import Shop, record


def test_mirror_commands_report_progress(
    shop: Shop, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IPOINT_BRIDGE_PROGRESS_SECONDS", "0")  # a line per step
    shop.put(*(record(f"e{i}", user="chris" if i % 2 else "sam") for i in range(30)))
    assert main(["-c", str(shop.path), "sync", "--once"]) == 0
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.startswith("sync: sending to Google: ")]
    assert re.fullmatch(
        r"sync: sending to Google: 30/30 changes in [\d.]+ s \(\d+ changes/s\)", lines[-1]
    ), err
    during = [x for x in lines[:-1] if re.search(r": \d+/30 changes \(\d+%\), \d+ changes/s$", x)]
    assert during, err

    assert main(["-c", str(shop.path), "repush", "--future"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"^repush: sending to Google: 30/30 changes in ", err, re.M), err

    assert main(["-c", str(shop.path), "reconcile"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"^reconcile: listing Google: 2/2 calendars in ", err, re.M), err
    assert re.search(r"^reconcile: listing Google: 1/2 calendars \(50%\)", err, re.M), err
