"""Layouts, ranges, single records, writes (modId, the auto-enter modification timestamp),
portals and date formats."""

from __future__ import annotations

import datetime as dt

from filemaker_emulator.ipoint_file import EVENT_LAYOUT, TECHNICIAN_LAYOUT, WORK_ORDER_LAYOUT
from filemaker_emulator.testing import EmulatorThread

from emulator_tests.filemaker.helpers import DataApi, q

WO = {
    "Work Order ID": "5001",
    "Work Order Name": "Rack cleanup",
    "Technician Login": "chris",
    "Start Date": "03/08/2026",
    "Start Time": "02:30:00",
    "End Date": "03/08/2026",
    "End Time": "04:00:00",
    "Work Order Number": 5001,
}


def _work_orders(n: int) -> list[dict[str, object]]:
    return [{**WO, "Work Order ID": str(5000 + i), "Work Order Number": 5000 + i} for i in range(n)]


def test_layout_metadata_lists_fields_types_and_portals(fm: DataApi) -> None:
    meta = fm.layout(EVENT_LAYOUT).response
    types = {f["name"]: f["result"] for f in meta["fieldMetaData"]}
    assert types["Event Name"] == "text"
    assert types["Start"] == "timeStamp"
    assert next(f for f in meta["fieldMetaData"] if f["name"] == "Modified")["autoEnter"]
    portal = meta["portalMetaData"]["Event Attendees"]
    assert [f["name"] for f in portal] == ["Event Attendees::Login", "Event Attendees::Role"]
    wo = {f["name"]: f["result"] for f in fm.layout(WORK_ORDER_LAYOUT).response["fieldMetaData"]}
    assert (wo["Start Date"], wo["Start Time"], wo["Work Order Number"]) == (
        "date",
        "time",
        "number",
    )
    missing = fm.layout("No Such Layout")
    assert (missing.status, missing.code) == (500, "105")
    names = [x["name"] for x in fm.request("GET", "layouts").response["layouts"]]
    assert WORK_ORDER_LAYOUT in names and TECHNICIAN_LAYOUT in names


def test_range_is_1_based_with_a_default_limit_of_100(emu: EmulatorThread, fm: DataApi) -> None:
    emu.load("Work Orders", _work_orders(250))
    first = fm.records(WORK_ORDER_LAYOUT)
    info = first.response["dataInfo"]
    assert info["totalRecordCount"] == 250 and info["foundCount"] == 250
    assert info["returnedCount"] == 100 and len(first.response["data"]) == 100
    assert info["database"] == "iPoint" and info["table"] == "Work Orders"
    assert info["layout"] == WORK_ORDER_LAYOUT
    page = fm.records(WORK_ORDER_LAYOUT, _offset=241, _limit=20).response
    ids = [r["fieldData"]["Work Order ID"] for r in page["data"]]
    assert ids == [str(5000 + i) for i in range(240, 250)]
    past = fm.records(WORK_ORDER_LAYOUT, _offset=251)
    assert (past.status, past.code) == (500, "401")
    assert fm.records(WORK_ORDER_LAYOUT, _offset=0).code == "1708"
    assert fm.records(WORK_ORDER_LAYOUT, _limit="x").code == "1708"


def test_records_read_in_us_format_or_iso(emu: EmulatorThread, fm: DataApi) -> None:
    emu.load("Work Orders", _work_orders(1))
    us = fm.records(WORK_ORDER_LAYOUT).response["data"][0]
    fields = us["fieldData"]
    assert fields["Start Date"] == "03/08/2026" and fields["Start Time"] == "02:30:00"
    assert fields["Work Order Number"] == 5000
    assert fields["Customer"] == ""
    assert us["recordId"] == "1" and us["modId"] == "0"
    modified = dt.datetime.strptime(fields["Modified"], "%m/%d/%Y %H:%M:%S")
    iso = fm.records(WORK_ORDER_LAYOUT, dateformats=2).response["data"][0]["fieldData"]
    assert iso["Start Date"] == "2026-03-08"
    assert iso["Modified"] == modified.strftime("%Y-%m-%dT%H:%M:%S")
    assert fm.records(WORK_ORDER_LAYOUT, dateformats=7).code == "1708"


def test_writes_bump_mod_id_and_the_modification_timestamp(
    emu: EmulatorThread, fm: DataApi
) -> None:
    created = fm.create(WORK_ORDER_LAYOUT, {"Work Order ID": "1", "Work Order Name": "A"})
    assert created.code == "0"
    rid = created.response["recordId"]
    assert created.response["modId"] == "0"
    before = fm.request("GET", f"layouts/{q(WORK_ORDER_LAYOUT)}/records/{rid}").response
    stamp = before["data"][0]["fieldData"]["Modified"]
    emu.advance(600)  # within the session's 15 idle minutes
    edited = fm.edit(WORK_ORDER_LAYOUT, rid, {"Work Order Name": "B"})
    assert edited.response == {"modId": "1"}
    after = fm.request("GET", f"layouts/{q(WORK_ORDER_LAYOUT)}/records/{rid}").response
    record = after["data"][0]
    assert record["fieldData"]["Work Order Name"] == "B" and record["modId"] == "1"
    new_stamp = dt.datetime.strptime(record["fieldData"]["Modified"], "%m/%d/%Y %H:%M:%S")
    old_stamp = dt.datetime.strptime(stamp, "%m/%d/%Y %H:%M:%S")
    assert 599 <= (new_stamp - old_stamp).total_seconds() <= 601
    assert fm.edit(WORK_ORDER_LAYOUT, rid, {"Work Order Name": "C"}, modId="0").code == "306"
    assert fm.edit(WORK_ORDER_LAYOUT, rid, {"Modified": "01/01/2020 00:00:00"}).code == "201"
    gone = fm.request("DELETE", f"layouts/{q(WORK_ORDER_LAYOUT)}/records/{rid}")
    assert gone.code == "0"
    missing = fm.request("GET", f"layouts/{q(WORK_ORDER_LAYOUT)}/records/{rid}")
    assert (missing.status, missing.code) == (500, "101")


def test_bad_values_and_nulls_are_refused(fm: DataApi) -> None:
    assert fm.create(WORK_ORDER_LAYOUT, {"Start Date": "2026-13-45"}).code == "500"
    assert fm.create(WORK_ORDER_LAYOUT, {"Start Time": "25:00"}).code == "501"
    assert fm.create(WORK_ORDER_LAYOUT, {"Work Order Number": "lots"}).code == "502"
    assert fm.create(WORK_ORDER_LAYOUT, {"Customer": None}).code == "1708"
    assert fm.create(WORK_ORDER_LAYOUT, {"Not On Layout": "x"}).code == "102"
    assert fm.records(WORK_ORDER_LAYOUT).code == "401"  # nothing was created


def test_only_fields_on_the_layout_are_readable(emu: EmulatorThread, fm: DataApi) -> None:
    emu.load("Work Orders", _work_orders(1))
    emu.control(
        "PUT",
        f"databases/iPoint/layouts/{WORK_ORDER_LAYOUT}",
        {"fields": ["Work Order ID", "Modified"]},
    )
    record = fm.records(WORK_ORDER_LAYOUT).response["data"][0]
    assert set(record["fieldData"]) == {"Work Order ID", "Modified"}
    hidden = fm.find(WORK_ORDER_LAYOUT, {"query": [{"Technician Login": "chris"}]})
    assert (hidden.status, hidden.code) == (500, "102")
    sort = fm.records(WORK_ORDER_LAYOUT, _sort='[{"fieldName": "Customer"}]')
    assert sort.code == "102"


def test_portals_with_names_limits_and_their_own_ids(emu: EmulatorThread, fm: DataApi) -> None:
    attendees = [
        {"Event Attendees::Login": f"t{i}", "Event Attendees::Role": "R"} for i in range(60)
    ]
    emu.load(
        "Events",
        [
            {
                "Event ID": "700",
                "Event Name": "Meeting",
                "Start": "11/02/2026 01:30:00",
                "End": "11/02/2026 02:30:00",
                "portalData": {"Event Attendees": attendees},
            }
        ],
    )
    record = fm.records(EVENT_LAYOUT).response["data"][0]
    rows = record["portalData"]["Event Attendees"]
    assert len(rows) == 50  # Claris' default portal limit
    assert rows[0]["Event Attendees::Login"] == "t0"
    assert set(rows[0]) == {"recordId", "modId", "Event Attendees::Login", "Event Attendees::Role"}
    assert record["portalDataInfo"][0]["foundCount"] == 60
    limited = fm.records(
        EVENT_LAYOUT,
        portal='["Event Attendees"]',
        **{"_limit.Event Attendees": 5, "_offset.Event Attendees": 58},
    ).response["data"][0]["portalData"]["Event Attendees"]
    assert [r["Event Attendees::Login"] for r in limited] == ["t57", "t58", "t59"]
    found = fm.find(
        EVENT_LAYOUT,
        {
            "query": [{"Event Attendees::Login": "t59"}],
            "portal": ["Event Attendees"],
            "limit.Event Attendees": "2",
        },
    ).response["data"][0]
    assert len(found["portalData"]["Event Attendees"]) == 2
    rid = record["recordId"]
    row_id = rows[1]["recordId"]
    edited = fm.edit(
        EVENT_LAYOUT,
        rid,
        {},
        portalData={"Event Attendees": [{"recordId": row_id, "Event Attendees::Login": "zed"}]},
    )
    assert edited.code == "0"
    again = fm.records(EVENT_LAYOUT, portal='["Event Attendees"]').response["data"][0]
    assert again["portalData"]["Event Attendees"][1]["Event Attendees::Login"] == "zed"
    assert again["portalData"]["Event Attendees"][1]["modId"] == "1"
    dropped = fm.edit(EVENT_LAYOUT, rid, {}, deleteRelated=f"Event Attendees.{row_id}")
    assert dropped.code == "0"
    last = fm.records(EVENT_LAYOUT).response["data"][0]["portalDataInfo"][0]
    assert last["foundCount"] == 59


def test_a_related_field_on_the_layout_shows_the_first_related_row(
    emu: EmulatorThread, fm: DataApi
) -> None:
    rows = [{"Event Attendees::Login": login} for login in ("dana", "sam")]
    emu.load("Events", [{"Event ID": "1", "portalData": {"Event Attendees": rows}}])
    emu.control(
        "PUT",
        f"databases/iPoint/layouts/{EVENT_LAYOUT}",
        {"fields": ["Event ID", "Modified", "Event Attendees::Login"]},
    )
    meta = fm.layout(EVENT_LAYOUT).response["fieldMetaData"]
    assert [f["name"] for f in meta] == ["Event ID", "Modified", "Event Attendees::Login"]
    record = fm.records(EVENT_LAYOUT).response["data"][0]
    assert record["fieldData"]["Event Attendees::Login"] == "dana"
    found = fm.find(EVENT_LAYOUT, {"query": [{"Event Attendees::Login": "sam"}]})
    assert found.response["dataInfo"]["foundCount"] == 1
