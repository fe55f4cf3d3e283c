"""The whole flow through real parts: iPoint pushes a record to `ipoint-bridge serve` (a
subprocess), a CalDAV client sees it, and the mirror puts it into the emulated Google calendar
with the right time; a delete propagates both ways."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import caldav
import pytest
from google_emulator.settings import AccountSpec, EmulatorSettings, OAuthClientSpec
from google_emulator.testing import EmulatorThread

from bridge.caldav.htpasswd import set_password
from bridge.files import write_private
from tests.support import CLI, ROOT, http

CLIENT_ID = "bridge-e2e.apps.googleusercontent.com"
CLIENT_SECRET = "e2e-secret"
OWNER = "owner@shop.example"
TOKEN = "e2e-ingest-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    settings = EmulatorSettings(
        accounts=(AccountSpec(OWNER, "America/Chicago"),),
        clients=(OAuthClientSpec(CLIENT_ID, CLIENT_SECRET),),
    )
    with EmulatorThread(settings) as emu:
        yield emu


@pytest.fixture
def bridge(tmp_path: Path, emulator: EmulatorThread) -> Iterator[dict[str, str]]:
    google = emulator.base_url
    config = tmp_path / "bridge.ini"
    config.write_text(f"""[bridge]
timezone = America/Chicago
data_dir = data
[web]
port = 0
ingest_token = {TOKEN}
[caldav]
port = 0
service_user = mirror
service_password = mirror-pw
[google]
enabled = yes
api_endpoint = {google}
auth_uri = {google}/o/oauth2/v2/auth
token_uri = {google}/token
revoke_uri = {google}/revoke
client_id = {CLIENT_ID}
client_secret = {CLIENT_SECRET}
[mirror]
interval_seconds = 0.2
""")
    data = tmp_path / "data"
    set_password(data / "users.htpasswd", "chris", "chris-pw", rounds=4)
    info = emulator.authorized_user_info(OWNER, client_id=CLIENT_ID)
    write_private(
        data / "google-credentials.json",
        json.dumps(
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "refresh_token": info["refresh_token"],
                "token_uri": f"{google}/token",
            }
        ),
    )
    env = {**os.environ, "TZ": "Asia/Kathmandu", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [*CLI, "-c", str(config), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    urls: dict[str, str] = {}
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            name, _, value = line.strip().partition(": ")
            if value:
                urls[name] = value
            if line.strip() == "ready":
                break
        assert "web" in urls and "caldav" in urls, proc.stderr.read() if proc.stderr else ""
        yield urls
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        assert code == 0, "serve did not stop cleanly on SIGTERM"


def google_events(emulator: EmulatorThread, calendar_name: str) -> list[dict[str, Any]]:
    snap = emulator.control("GET", "snapshot")
    for cal in snap["calendars"]:
        if cal["calendar"]["summary"] == calendar_name:
            events: list[dict[str, Any]] = cal["events"]
            return events
    return []


def test_push_reaches_caldav_and_google(bridge: dict[str, str], emulator: EmulatorThread) -> None:
    record = {
        "user": "chris",
        "user_name": "Chris Miller",
        "kind": "work_order",
        "title": "Mount projector",
        "start": "2026-12-01T09:00",
        "end": "2026-12-01T11:00",
        "customer": "Riverside Dental",
    }
    answer = http("PUT", f"{bridge['web']}/api/v1/events/WO-77", record, AUTH)
    assert answer.status == 200, answer.body

    client = caldav.DAVClient(url=bridge["caldav"] + "/", username="chris", password="chris-pw")
    calendars = client.principal().calendars()
    assert calendars, "chris finds his iPoint calendar by discovery"
    texts = [e.data for c in calendars for e in c.events()]
    assert any("SUMMARY:Mount projector" in t for t in texts)

    def mirrored() -> list[dict[str, Any]]:
        return [
            e
            for e in google_events(emulator, "iP Chris Miller")
            if e.get("summary") == "Mount projector" and e.get("status") != "cancelled"
        ]

    (event,) = wait_for(mirrored, "the event in Google")
    assert event["start"]["dateTime"] in ("2026-12-01T09:00:00-06:00", "2026-12-01T15:00:00Z")
    assert event["start"].get("timeZone") == "America/Chicago"
    assert "attendees" not in event

    assert http("DELETE", f"{bridge['web']}/api/v1/events/WO-77", headers=AUTH).status == 200
    wait_for(lambda: not mirrored(), "the delete in Google")
    texts = [e.data for c in client.principal().calendars() for e in c.events()]
    assert not any("Mount projector" in t for t in texts)
