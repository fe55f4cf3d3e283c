"""Fault injection: latency, 5xx from the web server, FileMaker errors, dropped connections,
the bulk loader and the request counters."""

from __future__ import annotations

import http.client
import time
import urllib.error

import pytest
from filemaker_emulator.ipoint_file import WORK_ORDER_LAYOUT
from filemaker_emulator.testing import EmulatorThread

from emulator_tests.filemaker.helpers import DataApi


def test_latency_applies_to_every_matching_request(emu: EmulatorThread, fm: DataApi) -> None:
    emu.add_fault(kind="latency", latency_ms=150, path="_find")
    started = time.monotonic()
    fm.find(WORK_ORDER_LAYOUT, {"query": [{"Customer": "*"}]})
    slow = time.monotonic() - started
    started = time.monotonic()
    fm.layout(WORK_ORDER_LAYOUT)
    fast = time.monotonic() - started
    assert slow >= 0.15 > fast


def test_http_errors_come_from_the_web_server_not_the_data_api(
    emu: EmulatorThread, fm: DataApi
) -> None:
    emu.add_fault(kind="http_error", status=503, count=2)
    for _ in range(2):
        answer = fm.layout(WORK_ORDER_LAYOUT)
        assert answer.status == 503
        assert isinstance(answer.body, str) and "Service Unavailable" in answer.body
    assert fm.layout(WORK_ORDER_LAYOUT).code == "0"


def test_filemaker_error_fault(emu: EmulatorThread, fm: DataApi) -> None:
    emu.add_fault(kind="fm_error", code=802, count=1)
    answer = fm.records(WORK_ORDER_LAYOUT)
    assert (answer.status, answer.code) == (500, "802")
    assert answer.body["messages"][0]["message"] == "Unable to open file"


def test_unreachable_closes_the_connection(emu: EmulatorThread, fm: DataApi) -> None:
    emu.add_fault(kind="unreachable")
    with pytest.raises((urllib.error.URLError, http.client.HTTPException, ConnectionError)):
        fm.layout(WORK_ORDER_LAYOUT)
    emu.clear_faults()
    assert fm.layout(WORK_ORDER_LAYOUT).code == "0"


def test_bulk_load_is_one_call_and_requests_are_counted(emu: EmulatorThread, fm: DataApi) -> None:
    rows = [{"Work Order ID": str(i), "Start Date": "11/27/2026"} for i in range(5000)]
    ids = emu.load("Work Orders", rows)
    assert len(ids) == 5000 and ids[0] == 1
    emu.control("POST", "stats/reset")
    answer = fm.find(WORK_ORDER_LAYOUT, {"query": [{"Work Order ID": "4999"}]})
    assert answer.response["dataInfo"]["foundCount"] == 1
    stats = emu.stats()["requests"]
    assert stats["total"] == 1
    assert stats[f"POST /fmi/data/vLatest/databases/iPoint/layouts/{WORK_ORDER_LAYOUT}/_find"] == 1
    assert emu.control("POST", "databases/iPoint/tables/Work Orders/delete", {"all": True}) == {
        "deleted": 5000
    }
    assert fm.records(WORK_ORDER_LAYOUT).code == "401"


def test_changed_password_and_removed_layout(emu: EmulatorThread, fm: DataApi) -> None:
    emu.control("PUT", "databases/iPoint/accounts/bridge-reader", {"password": "rotated"})
    assert DataApi(emu.base_url).login().code == "212"
    assert DataApi(emu.base_url).login(password="rotated").code == "0"
    emu.control("DELETE", f"databases/iPoint/layouts/{WORK_ORDER_LAYOUT}")
    assert fm.layout(WORK_ORDER_LAYOUT).code == "105"
