"""A Hypothesis state machine over the whole mirror: iPoint edits, hand edits in Google,
faults (including answers lost after Google applied the write, which is what a crash between
the call and the status write looks like), restarts. After every sync Google equals the
source, and a second sync makes zero calls."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from google_emulator.testing import EmulatorThread
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from bridge.mirror import ids
from tests.mirror.support import Shop, record

IDS = [f"e{i}" for i in range(6)]
USERS = ["chris", "sam"]
FAULTS = [
    {"kind": "error_ratio", "status": 503, "ratio": 0.3},
    {"kind": "error_ratio", "status": 403, "reason": "rateLimitExceeded", "ratio": 0.3},
    {"kind": "error_ratio", "status": 429, "ratio": 0.3},
    {"kind": "lose_response", "mode": "503", "count": 2, "methods": ["write"]},
    {"kind": "lose_response", "mode": "drop", "count": 1, "methods": ["write"]},
]


def _gid(login: str, rid: str) -> str:
    return ids.event_id("user:" + login, "ipoint-" + rid)


class MirrorMachine(RuleBasedStateMachine):
    emu: EmulatorThread

    def __init__(self) -> None:
        super().__init__()
        self.emu.control("POST", "reset")
        self.emu.control("DELETE", "faults")
        self._tmp = tempfile.TemporaryDirectory()
        self.shop = Shop(Path(self._tmp.name), self.emu)
        self.hand_changed = False
        self.faults: list[dict[str, Any]] = []

    def teardown(self) -> None:
        self.shop.close()
        self._tmp.cleanup()
        self.emu.control("DELETE", "faults")

    # ---------------------------------------------------------------- iPoint side

    @rule(
        rid=st.sampled_from(IDS),
        user=st.sampled_from(USERS),
        title=st.sampled_from(["Install", "Repair", "Visit"]),
        day=st.integers(1, 27),
        shape=st.sampled_from(["timed", "all_day", "weekly"]),
    )
    def put(self, rid: str, user: str, title: str, day: int, shape: str) -> None:
        fields: dict[str, Any] = {"title": f"{title} {rid}", "user_name": user.title()}
        if shape == "all_day":
            fields.update(start=f"2030-03-{day:02d}", end=f"2030-03-{day:02d}")
        else:
            fields.update(start=f"2030-03-{day:02d}T09:00", end=f"2030-03-{day:02d}T10:00")
        if shape == "weekly":
            fields["rrule"] = "FREQ=WEEKLY;COUNT=4"
        self.shop.put(record(rid, user=user, **fields))

    @rule(rid=st.sampled_from(IDS))
    def delete(self, rid: str) -> None:
        self.shop.delete(rid)

    # ---------------------------------------------------------------- Google side

    def _synced(self) -> list[tuple[str, str]]:
        out = []
        for login in USERS:
            row = self.shop.mirror().status.calendar("user:" + login)
            if row is not None and row.google_id:
                out.extend((row.google_id, gid) for gid in self.shop.events(login))
        return sorted(out)

    @precondition(lambda self: bool(self._synced()))
    @rule(data=st.data())
    def hand_edit(self, data: st.DataObject) -> None:
        cid, gid = data.draw(st.sampled_from(self._synced()))
        path = self.shop.google.events_path(cid, gid)
        status, ev = self.shop.google.call("GET", path)
        assert status == 200
        ev["summary"] = "edited by hand"
        assert self.shop.google.call("PUT", path, ev)[0] == 200
        self.hand_changed = True

    @precondition(lambda self: bool(self._synced()))
    @rule(data=st.data())
    def hand_delete(self, data: st.DataObject) -> None:
        cid, gid = data.draw(st.sampled_from(self._synced()))
        assert self.shop.google.call("DELETE", self.shop.google.events_path(cid, gid))[0] == 204
        self.hand_changed = True

    @precondition(lambda self: bool(self._synced()))
    @rule(data=st.data())
    def hand_copy(self, data: st.DataObject) -> None:
        cid, gid = data.draw(st.sampled_from(self._synced()))
        _, ev = self.shop.google.call("GET", self.shop.google.events_path(cid, gid))
        copy = {k: ev[k] for k in ("summary", "start", "end", "extendedProperties") if k in ev}
        assert self.shop.google.call("POST", self.shop.google.events_path(cid), copy)[0] == 200
        self.hand_changed = True

    @rule(fault=st.sampled_from(FAULTS))
    def fault(self, fault: dict[str, Any]) -> None:
        """Google misbehaves during the next sync (hand edits are made without faults)."""
        self.faults.append(fault)

    @rule()
    def restart(self) -> None:
        """A new mirror process: nothing but the database survives."""
        self.shop.mirror().shutdown()
        self.shop._mirror = None

    # ---------------------------------------------------------------- sync + invariants

    @rule()
    def sync(self) -> None:
        reconcile = self.hand_changed
        for fault in self.faults:
            self.emu.control("POST", "faults", fault)
        self.faults = []
        health = self.shop.sync(reconcile=reconcile)
        self.emu.control("DELETE", "faults")
        if not health.converged:
            # Faults can outlast one pass's retries; the next pass must finish the job.
            health = self.shop.sync(reconcile=reconcile)
        assert health.converged, health.reasons
        self.hand_changed = False
        self._google_equals_source()
        before = self.shop.calls()
        assert self.shop.sync().converged
        assert self.shop.calls() == before, "a second sync must make zero calls"

    def _google_equals_source(self) -> None:
        want: dict[str, dict[str, str]] = {u: {} for u in USERS}
        for login in USERS:
            for ev in self.shop.store.iter_calendar(login):
                want[login][_gid(login, ev.id)] = ev.record().title
        for login in USERS:
            row = self.shop.mirror().status.calendar("user:" + login)
            if row is None or not row.google_id:
                assert not want[login]
                continue
            got = {gid: e["summary"] for gid, e in self.shop.events(login).items()}
            assert got == want[login]


@pytest.mark.slow
def test_mirror_state_machine(_emulator: EmulatorThread) -> None:
    _emulator.control("DELETE", "faults")
    MirrorMachine.emu = _emulator
    run = MirrorMachine.TestCase
    run.settings = settings(
        max_examples=int(os.environ.get("MIRROR_MACHINE_EXAMPLES", "12")),
        stateful_step_count=14,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    run().runTest()
