"""Fuzzing ingest, mirror side (issue 10, "done when"): records with hostile text that the
bridge accepts, pushed to a real `ipoint-bridge serve`, reach the emulated Google calendar one
after the other; a record that once broke the CalDAV answers the mirror reads (a vertical tab)
no longer stops the calendar's mirror."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from google_emulator.settings import EmulatorSettings
from google_emulator.testing import EmulatorThread
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.config import load
from bridge.files import write_private
from tests.ingest.strategies import accepted_records
from tests.mirror.support import ini_text, sign_in
from tests.support import http, serve_cli, wait_for

TOKEN = "fuzz-ingest-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread(EmulatorSettings()) as emu:
        yield emu


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory, emulator: EmulatorThread) -> Iterator[str]:
    config = tmp_path_factory.mktemp("fuzz-mirror") / "bridge.ini"
    write_private(config, ini_text(emulator.base_url, f"[web]\nport = 0\ningest_token = {TOKEN}\n"))
    sign_in(emulator, load(config))
    with serve_cli(config) as urls:
        yield urls["web"]


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
