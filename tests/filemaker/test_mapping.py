"""FileMaker record -> ingest record: the file's formats, the shop's zone, DST, control
characters, portals, and problems that name the field and the value."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bridge.config import IngestSettings
from bridge.filemaker.mapping import FileMakerRecord, modified_of, read_record, to_ingest
from tests.filemaker.sources import EVENTS, TZ, WORK_ORDERS, source

UTC = dt.UTC
WO_MAP = WORK_ORDERS + "field.number = Work Order Number\n"


WO = source(WO_MAP, "wo")
EV = source(EVENTS, "ev")


def _wo(**changes: Any) -> FileMakerRecord:
    fields: dict[str, Any] = {
        "Work Order ID": "5001",
        "Work Order Number": 5001,
        "Work Order Name": "Rack cleanup",
        "Technician Login": "chris",
        "Notes": "",
        "Start Date": "12/01/2026",
        "Start Time": "09:00:00",
        "End Date": "12/01/2026",
        "End Time": "11:30:00",
        "Modified": "11/27/2026 10:15:02",
    }
    fields.update(changes)
    return FileMakerRecord(fields, record_id="17", mod_id="3")


def test_us_work_order_reads_in_the_shops_zone() -> None:
    raw, problems = to_ingest(_wo(), WO)
    assert problems == []
    assert raw == {
        "id": "WO-5001",
        "kind": "work_order",
        "user": "chris",
        "title": "Rack cleanup",
        "number": "5001",
        "start": "2026-12-01T09:00:00",
        "end": "2026-12-01T11:30:00",
        "modified": "2026-11-27T10:15:02",
    }
    record, problems = read_record(_wo(), WO, TZ)
    assert problems == [] and record is not None
    assert record.start == dt.datetime(2026, 12, 1, 9, tzinfo=ZoneInfo(TZ))
    assert record.start.astimezone(UTC) == dt.datetime(2026, 12, 1, 15, tzinfo=UTC)
    assert record.modified == dt.datetime(2026, 11, 27, 16, 15, 2, tzinfo=UTC)


def test_iso_dateformats_read_the_same() -> None:
    iso = _wo(
        **{"Start Date": "2026-12-01", "End Date": "2026-12-01", "Modified": "2026-11-27T10:15:02"}
    )
    assert to_ingest(iso, WO) == to_ingest(_wo(), WO)


def test_spring_forward_0230_is_0330_daylight_time() -> None:
    record, problems = read_record(
        _wo(
            **{
                "Start Date": "03/08/2026",
                "Start Time": "02:30:00",
                "End Date": "03/08/2026",
                "End Time": "04:00:00",
            }
        ),
        WO,
        TZ,
    )
    assert problems == [] and record is not None
    assert isinstance(record.start, dt.datetime)
    assert record.start.astimezone(UTC) == dt.datetime(2026, 3, 8, 8, 30, tzinfo=UTC)
    assert record.start.strftime("%H:%M %Z") == "03:30 CDT"


def test_fall_back_0130_is_the_first_daylight_one() -> None:
    record, problems = read_record(
        _wo(
            **{
                "Start Date": "11/01/2026",
                "Start Time": "01:30:00",
                "End Date": "11/01/2026",
                "End Time": "03:00:00",
            }
        ),
        WO,
        TZ,
    )
    assert problems == [] and record is not None
    assert isinstance(record.start, dt.datetime) and isinstance(record.end, dt.datetime)
    assert record.start.astimezone(UTC) == dt.datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert record.start.strftime("%Z") == "CDT"
    assert record.end.astimezone(UTC) == dt.datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def test_fall_back_on_a_timestamp_field() -> None:
    fm = FileMakerRecord(
        {
            "Event ID": "9",
            "Event Name": "Night shift",
            "Organizer Login": "pat",
            "Start": "11/01/2026 01:30:00",
            "End": "11/01/2026 02:30:00",
            "Modified": "",
        },
        {"Event Attendees": []},
    )
    record, problems = read_record(fm, EV, TZ)
    assert problems == [] and record is not None
    assert record.start.astimezone(UTC) == dt.datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # type: ignore[union-attr]


def test_control_characters() -> None:
    notes = "Line one\rLine two\vLine three\x1dsecond repetition\x00\x07\tend"
    raw, _ = to_ingest(_wo(Notes=notes), WO)
    assert raw is not None
    assert raw["description"] == "Line one\nLine two\nLine three\nsecond repetition\tend"


def test_dates_alone_are_all_day_and_an_end_time_alone_ends_on_the_start_day() -> None:
    raw, _ = to_ingest(_wo(**{"Start Time": "", "End Time": ""}), WO)
    assert raw is not None and (raw["start"], raw["end"]) == ("2026-12-01", "2026-12-01")
    record, _ = read_record(_wo(**{"Start Time": "", "End Time": ""}), WO, TZ)
    assert record is not None and record.all_day
    raw, _ = to_ingest(_wo(**{"End Date": ""}), WO)
    assert raw is not None and raw["end"] == "2026-12-01T11:30:00"
    raw, _ = to_ingest(_wo(**{"Start Time": "9:00:00 AM", "End Time": "1:30 PM"}), WO)
    assert raw is not None and (raw["start"], raw["end"]) == (
        "2026-12-01T09:00:00",
        "2026-12-01T13:30:00",
    )


def test_portal_attendees() -> None:
    rows = [
        {"recordId": "1", "Event Attendees::Login": "chris", "modId": "0"},
        {"recordId": "2", "Event Attendees::Login": "dana", "modId": "4"},
    ]
    fm = FileMakerRecord.from_data_api(
        {
            "fieldData": {
                "Event ID": 700,
                "Event Name": "Team meeting",
                "Organizer Login": "pat",
                "Start": "2026-11-30T07:30:00",
                "End": "2026-11-30T08:00:00",
                "Modified": "2026-11-27T10:00:00",
            },
            "portalData": {"Event Attendees": rows},
            "recordId": "5",
            "modId": "2",
        }
    )
    assert (fm.record_id, fm.mod_id) == ("5", "2")
    record, problems = read_record(fm, EV, TZ)
    assert problems == [] and record is not None
    assert record.id == "EV-700" and record.kind == "event"
    assert record.attendees == ("chris", "dana")
    assert modified_of(fm, EV) == dt.datetime(2026, 11, 27, 10, 0)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"Start Date": "13/45/2026"}, "Start Date", "'13/45/2026' is not a real date"),
        ({"Start Date": "tomorrow"}, "Start Date", "'tomorrow' is not a date"),
        ({"Start Time": "25:00:00"}, "Start Time", "'25:00:00' is not a real time"),
        ({"Modified": "yesterday"}, "Modified", "'yesterday' is not a timestamp"),
        ({"Work Order ID": ""}, "Work Order ID", "no key"),
    ],
)
def test_unreadable_values_name_field_and_value(
    changes: dict[str, str], field: str, words: str
) -> None:
    raw, problems = to_ingest(_wo(**changes), WO)
    assert raw is None
    assert problems[0].field == field and words in problems[0].reason
    assert problems[0].record == ("WO-5001" if field != "Work Order ID" else "recordId 17")


def test_missing_field_and_validation_problems_name_the_filemaker_field() -> None:
    fields = dict(_wo().fields)
    del fields["Notes"]
    raw, problems = to_ingest(FileMakerRecord(fields), WO)
    assert (
        raw is None and problems[0].field == "Notes" and "not on the layout" in problems[0].reason
    )
    record, problems = read_record(_wo(**{"Work Order Name": "  "}), WO, TZ)
    assert record is None
    assert problems[0].field == "title (Work Order Name)"
    record, problems = read_record(_wo(**{"Technician Login": "chris miller"}), WO, TZ)
    assert record is None and problems[0].field == "user (Technician Login)"
    record, problems = read_record(_wo(**{"Start Time": "12:00:00"}), WO, TZ)
    assert record is None and problems[0].field == "end (End Date, End Time)"


def test_the_shops_ingest_limits_apply_to_filemaker_records() -> None:
    """FileMaker records take the push API's validation with the shop's ``[ingest]`` limits,
    not the built-in defaults."""
    title = "Replace the rack in the server room"
    record, problems = read_record(_wo(**{"Work Order Name": title}), WO, TZ)
    assert record is not None and not problems
    tight = IngestSettings(max_title_chars=10)
    record, problems = read_record(_wo(**{"Work Order Name": title}), WO, TZ, tight)
    assert record is None
    assert any("Work Order Name" in str(p) for p in problems), problems
