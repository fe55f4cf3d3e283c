"""``ipoint-bridge filemaker check|webhook`` as subprocesses against the emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from filemaker_emulator.testing import EmulatorThread

from tests.filemaker.support import TOKEN, events_ini, load_work_orders, work_orders_ini, write_ini
from tests.support import run_cli


@pytest.fixture
def fm() -> Iterator[EmulatorThread]:
    with EmulatorThread() as emu:
        yield emu


def test_check_shows_a_record_as_stored(fm: EmulatorThread, tmp_path: Path) -> None:
    load_work_orders(fm, 5)
    ini = write_ini(tmp_path, work_orders_ini(fm.base_url))
    done = run_cli("-c", str(ini), "filemaker", "check", "workorders")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "login: OK" in done.stdout and "layout 'Bridge Work Orders'" in done.stdout
    shown = json.loads(done.stdout[done.stdout.index("{") :])
    assert shown["id"].startswith("WO-") and shown["user"] == "chris"
    # the newest of the five (same second: the highest key), 12/06/2026 09:00 in the shop zone
    assert shown["id"] == "WO-5" and shown["start"].startswith("2026-12-06T09:00")
    assert "bridge-reader-password" not in done.stdout + done.stderr


def test_check_names_every_missing_field_and_lists_the_layouts(
    fm: EmulatorThread, tmp_path: Path
) -> None:
    text = (
        work_orders_ini(fm.base_url)
        .replace("field.customer = Customer", "field.customer = Client Name")
        .replace("field.location = Site Address", "field.location = Job Site")
    )
    ini = write_ini(tmp_path, text)
    done = run_cli("-c", str(ini), "filemaker", "check", "workorders")
    assert done.returncode == 1
    assert "missing: field 'Client Name' is not on layout 'Bridge Work Orders'" in done.stdout
    assert "missing: field 'Job Site'" in done.stdout
    assert "the layout has: 'Work Order ID'" in done.stdout and "'Site Address'" in done.stdout


def test_check_wrong_password_and_unknown_source(fm: EmulatorThread, tmp_path: Path) -> None:
    ini = write_ini(tmp_path, work_orders_ini(fm.base_url, password="nope-nope"))
    done = run_cli("-c", str(ini), "filemaker", "check", "workorders")
    assert done.returncode == 1 and "code 212" in done.stderr
    assert "nope-nope" not in done.stdout + done.stderr
    other = run_cli("-c", str(ini), "filemaker", "check", "invoices")
    assert other.returncode == 2 and "[filemaker:invoices]" in other.stderr


def test_webhook_prints_the_odata_webhook_add_body(fm: EmulatorThread, tmp_path: Path) -> None:
    ini = write_ini(
        tmp_path,
        events_ini(fm.base_url),
        head=f"[web]\ningest_token = {TOKEN}\nport = 8443\n",
    )
    text = ini.read_text().replace(
        "data_dir = data\n", "data_dir = data\nbase_url = https://bridge.example.com\n"
    )
    ini.write_text(text)
    done = run_cli("-c", str(ini), "filemaker", "webhook", "events", "--table", "Events")
    assert done.returncode == 0, done.stderr
    assert f"POST {fm.base_url}/fmi/odata/v4/iPoint/Webhook.Add" in done.stdout
    body = json.loads(done.stdout[done.stdout.index("{") :])
    assert body["webhook"] == "https://bridge.example.com/api/v1/filemaker/events/webhook"
    assert body["tableName"] == "Events" and body["select"] == "Event ID"
    assert body["headers"]["Authorization"] == "Bearer <[web] ingest_token>"
    assert TOKEN not in done.stdout
    shown = run_cli("-c", str(ini), "filemaker", "webhook", "events", "--show-token")
    assert f"Bearer {TOKEN}" in shown.stdout


def test_sync_full_shows_its_progress(
    fm: EmulatorThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``filemaker sync --full`` is one of the long jobs: off a terminal it writes a line as it
    goes (here after every page) and a last one with the count and the rate."""
    monkeypatch.setenv("IPOINT_BRIDGE_PROGRESS_SECONDS", "0")
    load_work_orders(fm, 250)
    ini = write_ini(tmp_path, work_orders_ini(fm.base_url, extra="page_size = 100\n"))
    done = run_cli("-c", str(ini), "filemaker", "sync", "workorders", "--full")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "read 250, wrote 250" in done.stdout
    lines = [x for x in done.stderr.splitlines() if x.startswith("filemaker sync workorders: ")]
    assert any(x.startswith("filemaker sync workorders: reading: 100/250 records") for x in lines)
    assert lines[-1].startswith("filemaker sync workorders: reading: 250/250 records in "), lines
