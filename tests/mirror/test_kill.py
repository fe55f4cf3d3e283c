"""kill -9 at random moments: ``ipoint-bridge sync --once`` in a subprocess, killed at random
delays while the source keeps changing, then a clean run. Google must equal the source with
zero duplicate events and zero duplicate calendars."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from bridge.mirror import ids
from tests.mirror.support import Shop, ini_text, record

RUNS = 22
EVENTS = 240


def _sync_cmd(shop: Shop) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bridge",
        "-c",
        str(shop.path),
        "sync",
        "--once",
        "--timeout",
        "60",
    ]


def _live_records(shop: Shop) -> dict[str, tuple[str, str]]:
    """event id -> (owner, title) of the store's live events."""
    out: dict[str, tuple[str, str]] = {}
    for user in shop.store.users():
        for ev in shop.store.iter_calendar(user.login):
            rec = ev.record()
            if rec.user == user.login:
                out[rec.id] = (rec.user, rec.title)
    return out


@pytest.mark.slow
def test_kill_9_at_random_points_converges_without_duplicates(shop: Shop) -> None:
    # Slow enough that kills land inside the push: 100 calls a second, batches of 10.
    # A short Google writer lease: each killed run leaves its lease behind, and the next run
    # waits for it to end (up to one lease period) before writing.
    shop.path.write_text(ini_text(shop.emu.base_url, "lease_seconds = 2", rate=6000, batch=10))
    shop.emu.control("POST", "faults", {"kind": "error_ratio", "status": 503, "ratio": 0.05})
    rng = random.Random(20240611)
    shop.put(*(record(f"k{i}", user=("chris", "sam")[i % 2], title=f"K{i}") for i in range(EVENTS)))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    killed = 0
    for run in range(RUNS):
        proc = subprocess.Popen(
            _sync_cmd(shop), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        time.sleep(rng.uniform(0.3, 3.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait(30)
        # The source keeps moving between runs: edits, deletes, new events.
        changes = [
            record(f"k{rng.randrange(EVENTS)}", user="chris", title=f"edit {run}") for _ in range(3)
        ]
        changes = list({c["id"]: c for c in changes}.values())
        live = _live_records(shop)
        for c in changes:
            if c["id"] in live:
                c["user"] = live[c["id"]][0]
                c["user_name"] = c["user"].title()
        shop.put(*changes, record(f"n{run}", title=f"New {run}"))
        gone = rng.randrange(EVENTS)
        if f"k{gone}" in _live_records(shop) and f"k{gone}" not in {c["id"] for c in changes}:
            shop.delete(f"k{gone}")
    assert killed >= RUNS // 2, f"only {killed} of {RUNS} runs were killed mid-way"
    shop.emu.control("DELETE", "faults")
    done = subprocess.run(_sync_cmd(shop), capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]

    snapshot = shop.emu.control("GET", "snapshot")
    summaries = Counter(c["calendar"]["summary"] for c in snapshot["calendars"])
    assert summaries["iP Chris"] == 1 and summaries["iP Sam"] == 1, summaries
    want = _live_records(shop)
    for login in ("chris", "sam"):
        events = shop.events(login)
        expected = {
            ids.event_id("user:" + login, "ipoint-" + rid): title
            for rid, (owner, title) in want.items()
            if owner == login
        }
        got = {gid: e["summary"] for gid, e in events.items()}
        assert got == expected
    # A further run changes nothing and reports convergence.
    again = subprocess.run(_sync_cmd(shop), capture_output=True, text=True, env=env, timeout=60)
    assert again.returncode == 0 and "(0 Google calls)" in again.stdout
