"""Fuzzing ingest, mirror side (issue 10, "done when"): records with hostile text that the
bridge accepts, pushed to a real `ipoint-bridge serve`, reach the emulated Google calendar one
after the other; a record that once broke the CalDAV answers the mirror reads (a vertical tab)
no longer stops the calendar's mirror."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from google_emulator.settings import AccountSpec, EmulatorSettings, OAuthClientSpec
from google_emulator.testing import EmulatorThread
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.caldav.htpasswd import set_password
from bridge.runtime import write_private
from tests.ingest.strategies import accepted_records
from tests.support import CLI, ROOT, http

CLIENT_ID = "bridge-fuzz.apps.googleusercontent.com"
CLIENT_SECRET = "fuzz-secret"
OWNER = "owner@shop.example"
TOKEN = "fuzz-ingest-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def wait_for(check: Callable[[], Any], what: str, timeout: float = 40.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    spec = EmulatorSettings(
        accounts=(AccountSpec(OWNER, "America/Chicago"),),
        clients=(OAuthClientSpec(CLIENT_ID, CLIENT_SECRET),),
    )
    with EmulatorThread(spec) as emu:
        yield emu


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory, emulator: EmulatorThread) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("fuzz-mirror")
    google = emulator.base_url
    config = folder / "bridge.ini"
    write_private(
        config,
        f"[bridge]\ntimezone = America/Chicago\ndata_dir = data\n"
        f"[web]\nport = 0\ningest_token = {TOKEN}\n"
        "[caldav]\nport = 0\nservice_user = mirror\nservice_password = mirror-pw\n"
        f"[google]\nenabled = yes\napi_endpoint = {google}\nauth_uri = {google}/o/oauth2/v2/auth\n"
        f"token_uri = {google}/token\nrevoke_uri = {google}/revoke\n"
        f"client_id = {CLIENT_ID}\nclient_secret = {CLIENT_SECRET}\n"
        "[mirror]\ninterval_seconds = 0.2\n",
    )
    info = emulator.authorized_user_info(OWNER, client_id=CLIENT_ID)
    write_private(
        folder / "data" / "google-credentials.json",
        json.dumps(
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "refresh_token": info["refresh_token"],
                "token_uri": f"{google}/token",
            }
        ),
    )
    set_password(folder / "data" / "users.htpasswd", "chris", "chris-pw", rounds=4)
    proc = subprocess.Popen(
        [*CLI, "-c", str(config), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    url = ""
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("web: "):
                url = line.split()[1]
            if line.strip() == "ready":
                break
        assert url
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def google_summaries(emulator: EmulatorThread) -> dict[str, str]:
    out: dict[str, str] = {}
    for cal in emulator.control("GET", "snapshot")["calendars"]:
        for event in cal["events"]:
            if event.get("status") != "cancelled":
                out[str(event.get("summary"))] = str(event.get("id"))
    return out


COUNTER = iter(range(1_000_000))


@settings(
    deadline=None,
    max_examples=6,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_accepted_hostile_records_reach_google(
    web: str, emulator: EmulatorThread, data: st.DataObject
) -> None:
    event_id = f"fz-{next(COUNTER)}"
    record = data.draw(accepted_records(event_id))
    body = json.dumps(record)  # lone surrogates travel as \udXXX escapes
    answer = http("PUT", f"{web}/api/v1/events/{event_id}", body, AUTH)
    assert answer.status == 200, answer.body[:300]
    title = http("GET", f"{web}/api/v1/events/{event_id}", headers=AUTH).json()["record"]["title"]
    wait_for(lambda: title in google_summaries(emulator), f"{title!r} in Google")


def test_a_vertical_tab_does_not_stop_the_mirror(web: str, emulator: EmulatorThread) -> None:
    """Reproduces: a VT in a description made the calendar's sync-collection answer not
    well-formed, so the mirror stopped for that calendar until the record was gone."""
    record = {
        "user": "chris",
        "title": "Line\x0bbreak",
        "description": "one\x0btwo\x00",
        "start": "2026-12-02T09:00",
        "end": "2026-12-02T10:00",
    }
    assert http("PUT", f"{web}/api/v1/events/vt-m", record, AUTH).status == 200
    after = dict(record, title="Sentinel after it", description="plain")
    assert http("PUT", f"{web}/api/v1/events/vt-after", after, AUTH).status == 200
    wait_for(
        lambda: {"Line\nbreak", "Sentinel after it"} <= set(google_summaries(emulator)),
        "both events in Google",
    )
