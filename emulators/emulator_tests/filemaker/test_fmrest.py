"""python-fmrest, the field's Data API client, against the emulator: log-in, metadata, finds
with portals, ranges, writes, automatic log-in again on 952, logout.

fmrest refuses plain http unless the URL ends in ``:3000`` (FileMaker Server's internal port), so
the test gives it an https URL and then points ``url`` at the emulator, as a proxy would.
"""

from __future__ import annotations

import warnings

import fmrest
import pytest
from filemaker_emulator.ipoint_file import (
    EVENT_LAYOUT,
    PASSWORD,
    USERNAME,
    WORK_ORDER_LAYOUT,
)
from filemaker_emulator.testing import EmulatorThread
from fmrest.exceptions import FileMakerError


def _server(emu: EmulatorThread, layout: str, **kwargs: object) -> fmrest.Server:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = fmrest.Server(
            "https://fms.example.com",
            user=USERNAME,
            password=PASSWORD,
            database="iPoint",
            layout=layout,
            api_version="vLatest",
            **kwargs,
        )
    server.url = emu.base_url
    return server


def test_fmrest_reads_finds_and_writes(emu: EmulatorThread) -> None:
    emu.load(
        "Events",
        [
            {
                "Event ID": "700",
                "Event Name": "Team meeting",
                "Start": "11/02/2026 07:30:00",
                "End": "11/02/2026 08:00:00",
                "portalData": {"Event Attendees": [{"Event Attendees::Login": "chris"}]},
            }
        ],
    )
    with _server(emu, EVENT_LAYOUT) as fms:
        assert fms.login()
        fields = fms.get_layout(metadata="fields")
        assert {f["name"] for f in fields} >= {"Event ID", "Start", "Modified"}
        found = fms.find(
            [{"Event Name": "team"}], portals=[{"name": "Event Attendees", "limit": 10}]
        )
        record = found[0]
        assert record["Event ID"] == "700"
        assert record["Start"] == "11/02/2026 07:30:00"
        portal = record["portal_Event Attendees"]
        assert portal[0]["Event Attendees::Login"] == "chris"
        iso = fms.get_records(date_format="iso-8601")
        assert iso[0]["Start"] == "2026-11-02T07:30:00"
        record_id = fms.create_record({"Event ID": "701", "Event Name": "Training"})
        assert fms.edit_record(record_id, {"Event Name": "Training day"})
        assert fms.get_record(record_id)["Event Name"] == "Training day"
        assert fms.get_record(record_id).modId == "1"
        with pytest.raises(FileMakerError):
            fms.find([{"Event Name": "nothing like this"}])
        assert fms.last_error == 401
    assert emu.stats()["sessions"] == 0  # the with block logged out


def test_fmrest_logs_in_again_on_952(emu: EmulatorThread) -> None:
    emu.load("Work Orders", [{"Work Order ID": "1"}])
    fms = _server(emu, WORK_ORDER_LAYOUT, auto_relogin=True)
    fms.login()
    emu.expire_tokens()
    assert fms.get_records()[0]["Work Order ID"] == "1"
    plain = _server(emu, WORK_ORDER_LAYOUT)
    plain.login()
    emu.advance(15 * 60 + 1)
    with pytest.raises(FileMakerError):
        plain.get_records()
    assert plain.last_error == 952


def test_fmrest_sees_a_wrong_password(emu: EmulatorThread) -> None:
    fms = _server(emu, WORK_ORDER_LAYOUT)
    fms.password = "wrong"
    with pytest.raises(FileMakerError):
        fms.login()
    assert fms.last_error == 212
