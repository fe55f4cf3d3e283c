"""The emulator's routes against google-api-python-client's bundled discovery document."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import googleapiclient
from google_emulator.api import SCOPE_PREFIX
from google_emulator.engine import Engine
from google_emulator.settings import EmulatorSettings

from emulator_tests.google.helpers import http

DISCOVERY = Path(googleapiclient.__file__).parent / "discovery_cache/documents/calendar.v3.json"


def test_paths_and_scopes_match_the_discovery_document() -> None:
    doc = json.loads(DISCOVERY.read_text())
    assert doc["servicePath"] == "calendar/v3/"
    assert doc["batchPath"] == "batch/calendar/v3"
    methods = {}
    for resource in doc["resources"].values():
        for method in resource["methods"].values():
            methods[method["id"]] = method
    routes = Engine(EmulatorSettings()).routes
    assert len(routes) == 25
    for route in routes:
        method = methods[route.method_id]
        assert route.verb == method["httpMethod"], route.method_id
        expected = ("calendar", "v3", *method["path"].split("/"))
        assert route.template == expected, route.method_id
        scopes = {s.removeprefix(SCOPE_PREFIX) for s in method["scopes"]}
        assert {s.removeprefix(SCOPE_PREFIX) for s in route.scopes} == scopes, route.method_id


def test_standalone_entry_point_keeps_state_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "state.json"

    def start() -> tuple[subprocess.Popen[str], str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "google_emulator", "--port", "0", "--state", str(state)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("http://127.0.0.1:")
        return proc, line

    proc, base = start()
    try:
        minted = http("POST", base + "/_emulator/oauth/tokens", body={"email": "demo@example.com"})
        token = minted.body["access_token"]
        made = http(
            "POST",
            base + "/calendar/v3/calendars/primary/events",
            body={
                "id": "kept000001",
                "start": {"date": "2030-01-01"},
                "end": {"date": "2030-01-02"},
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        assert made.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert state.exists()
    proc, base = start()
    try:
        got = http(
            "GET",
            base + "/calendar/v3/calendars/primary/events/kept000001",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert got.status == 200
        assert got.body["id"] == "kept000001"
        refreshed = http(
            "POST",
            base + "/token",
            raw=(
                f"grant_type=refresh_token&refresh_token={minted.body['refresh_token']}"
                f"&client_id={minted.body['client_id']}&client_secret={minted.body['client_secret']}"
            ).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert refreshed.status == 200
    finally:
        proc.terminate()
        started = time.monotonic()
        proc.wait(timeout=20)
        assert time.monotonic() - started < 20
