"""``_find``: the operators the connector uses, OR-ed and omit requests, sort, paging, 401."""

from __future__ import annotations

from typing import Any

from filemaker_emulator.ipoint_file import EVENT_LAYOUT, WORK_ORDER_LAYOUT
from filemaker_emulator.testing import EmulatorThread

from emulator_tests.filemaker.helpers import DataApi


def _ids(answer: Any) -> list[str]:
    return [r["fieldData"]["Work Order ID"] for r in answer.response["data"]]


def _load(emu: EmulatorThread) -> None:
    rows = [
        ("1", "chris", "Whole-home audio", "11/01/2026", 10),
        ("2", "dana", "Camera service", "11/02/2026", 20),
        ("3", "chris", "Audio rack", "11/03/2026", 30),
        ("4", "sam", "", "11/04/2026", 40),
        ("5", "christa", "Wi-Fi survey", "11/05/2026", 50),
    ]
    emu.load(
        "Work Orders",
        [
            {
                "Work Order ID": i,
                "Technician Login": login,
                "Work Order Name": name,
                "Start Date": day,
                "Work Order Number": number,
                "Modified": f"{day} 08:00:00",
            }
            for i, login, name, day, number in rows
        ],
    )


def test_text_operators(emu: EmulatorThread, fm: DataApi) -> None:
    _load(emu)

    def find(criteria: str, field: str = "Technician Login") -> list[str]:
        answer = fm.find(WORK_ORDER_LAYOUT, {"query": [{field: criteria}]})
        return _ids(answer) if answer.code == "0" else []

    assert find("chris") == ["1", "3", "5"]  # word begins with
    assert find("==chris") == ["1", "3"]  # whole field
    assert find("CHRIS") == ["1", "3", "5"]  # case-insensitive
    assert find("audio", "Work Order Name") == ["1", "3"]
    assert find("=", "Work Order Name") == ["4"]
    assert find("*", "Work Order Name") == ["1", "2", "3", "5"]
    assert find("d*a") == ["2"]


def test_comparisons_ranges_or_and_omit(emu: EmulatorThread, fm: DataApi) -> None:
    _load(emu)

    def find(body: dict[str, Any]) -> list[str]:
        return _ids(fm.find(WORK_ORDER_LAYOUT, body))

    assert find({"query": [{"Work Order Number": ">=30"}]}) == ["3", "4", "5"]
    assert find({"query": [{"Work Order Number": ">30"}]}) == ["4", "5"]
    assert find({"query": [{"Work Order Number": "<20"}]}) == ["1"]
    assert find({"query": [{"Work Order Number": "<=20"}]}) == ["1", "2"]
    assert find({"query": [{"Work Order Number": "20...40"}]}) == ["2", "3", "4"]
    assert find({"query": [{"Start Date": "11/02/2026...11/03/2026"}]}) == ["2", "3"]
    assert find({"query": [{"Start Date": "2026-11-04"}], "dateformats": "2"}) == ["4"]
    assert find({"query": [{"Technician Login": "dana"}, {"Technician Login": "sam"}]}) == [
        "2",
        "4",
    ]
    omit = {"query": [{"Technician Login": "chris"}, {"Work Order Number": "50", "omit": "true"}]}
    assert find(omit) == ["1", "3"]


def test_modification_timestamp_finds_share_a_second(emu: EmulatorThread, fm: DataApi) -> None:
    _load(emu)
    body = {"query": [{"Modified": ">=11/03/2026 08:00:00"}]}
    assert _ids(fm.find(WORK_ORDER_LAYOUT, body)) == ["3", "4", "5"]
    day = {"query": [{"Modified": "11/03/2026"}]}  # a date means the whole day
    assert _ids(fm.find(WORK_ORDER_LAYOUT, day)) == ["3"]
    later = fm.find(WORK_ORDER_LAYOUT, {"query": [{"Modified": ">11/05/2026 08:00:00"}]})
    assert (later.status, later.code, later.response) == (500, "401", {})
    assert later.body["messages"][0]["message"] == "No records match the request"


def test_sort_offset_limit_and_data_info(emu: EmulatorThread, fm: DataApi) -> None:
    _load(emu)
    body = {
        "query": [{"Work Order Number": ">=20"}],
        "sort": [{"fieldName": "Work Order Number", "sortOrder": "descend"}],
        "offset": "2",
        "limit": 2,
    }
    answer = fm.find(WORK_ORDER_LAYOUT, body)
    assert _ids(answer) == ["4", "3"]
    info = answer.response["dataInfo"]
    assert (info["foundCount"], info["returnedCount"], info["totalRecordCount"]) == (4, 2, 5)
    by_name = {"query": [{"Work Order ID": "*"}], "sort": [{"fieldName": "Work Order Name"}]}
    assert _ids(fm.find(WORK_ORDER_LAYOUT, by_name)) == ["4", "3", "2", "1", "5"]
    past = fm.find(WORK_ORDER_LAYOUT, {**body, "offset": 10})
    assert past.code == "401"


def test_malformed_finds_are_refused(fm: DataApi) -> None:
    assert fm.find(WORK_ORDER_LAYOUT, {"query": []}).code == "1708"
    assert fm.find(WORK_ORDER_LAYOUT, {"query": [{"Customer": None}]}).code == "1708"
    assert fm.find(WORK_ORDER_LAYOUT, {"query": [{"Nope": "x"}]}).code == "102"
    assert fm.find(WORK_ORDER_LAYOUT, {"query": [{"Customer": "x"}], "limit": "-1"}).code == "1708"
    bad_sort = {
        "query": [{"Customer": "x"}],
        "sort": [{"fieldName": "Customer", "sortOrder": "up"}],
    }
    assert fm.find(WORK_ORDER_LAYOUT, bad_sort).code == "1708"
    assert fm.find("Nope", {"query": [{"Customer": "x"}]}).code == "105"
    assert fm.find(EVENT_LAYOUT, {"query": [{"Start": "13/45/2026"}]}).code == "500"
