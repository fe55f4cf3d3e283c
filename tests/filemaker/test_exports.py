"""``import`` of FileMaker's own exports: Merge (.mer) with --map, headerless CSV and tab with
--columns, CR between records, vertical tabs for returns, 0x1D between repeating values, US
dates; the CLI as a subprocess."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bridge import config
from bridge.filemaker.exports import read_export
from bridge.runtime import open_store
from tests.filemaker.sources import EVENTS, WORK_ORDERS
from tests.support import run_cli, write_config

SOURCE = WORK_ORDERS + EVENTS
VT, GS, CR = "\x0b", "\x1d", "\r"


def _stored(cfg: Path, event_id: str) -> object:
    store = open_store(config.load(cfg))
    try:
        event = store.get(event_id)
        return event.record() if event is not None else None
    finally:
        store.close()


def test_headerless_csv_with_vertical_tabs_and_us_dates(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    rows = [
        '"WO-1","chris","Rack cleanup","12/01/2026 09:00:00","12/01/2026 11:00:00",'
        f'"Call first{VT}Photos after{VT}Gate code 1234","dana{GS}sam"',
        '"WO-2","dana","Wi-Fi survey","12/02/2026","","",""',
    ]
    export.write_bytes(CR.join(rows).encode() + CR.encode())
    columns = ["id", "user", "title", "start", "end", "description", "attendees"]
    raws = read_export(export, columns=columns)
    assert [line for line, _ in raws] == [1, 2]
    first = raws[0][1]
    assert first == {
        "id": "WO-1",
        "user": "chris",
        "title": "Rack cleanup",
        "start": "2026-12-01T09:00:00",
        "end": "2026-12-01T11:00:00",
        "description": "Call first\nPhotos after\nGate code 1234",
        "attendees": ["dana", "sam"],
    }
    assert raws[1][1] == {
        "id": "WO-2",
        "user": "dana",
        "title": "Wi-Fi survey",
        "start": "2026-12-02",
    }

    cfg = write_config(tmp_path)
    result = run_cli("-c", str(cfg), "import", str(export), "--columns", ",".join(columns))
    assert result.returncode == 0, result.stderr
    record = _stored(cfg, "WO-1")
    assert record.description == "Call first\nPhotos after\nGate code 1234"  # type: ignore[attr-defined]
    assert record.attendees == ("dana", "sam")  # type: ignore[attr-defined]


def test_merge_file_through_a_source_map(tmp_path: Path) -> None:
    header = (
        '"Work Order ID","Technician Login","Work Order Name","Start Date","Start Time",'
        '"End Date","End Time","Notes","Modified","Customer"'
    )
    rows = [
        header,
        f'"5001","chris","Rack cleanup","03/08/2026","02:30:00","03/08/2026","04:00:00",'
        f'"Line one{VT}Line two","03/01/2026 10:00:00","Hughes"',
        '"5002","sam","Fall-back job","11/01/2026","01:30:00","","03:00:00","","",""',
    ]
    merge = tmp_path / "workorders.mer"
    merge.write_bytes((CR.join(rows) + CR).encode())
    cfg = write_config(tmp_path, SOURCE)
    result = run_cli("-c", str(cfg), "import", str(merge), "--map", "wo")
    assert result.returncode == 0, result.stderr
    assert "2 records" in result.stdout
    spring = _stored(cfg, "WO-5001")
    assert spring.description == "Line one\nLine two"  # type: ignore[attr-defined]
    assert spring.start.astimezone(dt.UTC) == dt.datetime(2026, 3, 8, 8, 30, tzinfo=dt.UTC)  # type: ignore[attr-defined]
    fall = _stored(cfg, "WO-5002")
    assert fall.start.astimezone(dt.UTC) == dt.datetime(2026, 11, 1, 6, 30, tzinfo=dt.UTC)  # type: ignore[attr-defined]
    assert fall.end.astimezone(dt.UTC) == dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)  # type: ignore[attr-defined]


def test_windows_ansi_tab_export_with_columns_and_related_attendees(tmp_path: Path) -> None:
    export = tmp_path / "events.tab"
    export.write_bytes(
        (
            "700\tRéunion d'équipe\tpat\t11/30/2026 07:30:00\t11/30/2026 08:00:00\t\t"
            f"chris{GS}dana{GS}sam{CR}"
            f"701\tTraining\tpat\t12/07/2026 13:00:00\t12/07/2026 15:00:00\t\t{CR}"
        ).encode("cp1252")
    )
    columns = "Event ID,Event Name,Organizer Login,Start,End,Modified,Event Attendees::Login"
    cfg = write_config(tmp_path, SOURCE)
    result = run_cli("-c", str(cfg), "import", str(export), "--map", "ev", "--columns", columns)
    assert result.returncode == 0, result.stderr
    meeting = _stored(cfg, "EV-700")
    assert meeting.title == "Réunion d'équipe"  # type: ignore[attr-defined]  # cp1252 file
    assert meeting.attendees == ("chris", "dana", "sam")  # type: ignore[attr-defined]
    assert _stored(cfg, "EV-701").attendees == ()  # type: ignore[attr-defined]


def test_bad_rows_and_missing_columns_change_nothing(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, SOURCE)
    merge = tmp_path / "bad.mer"
    merge.write_bytes(
        (
            '"Work Order ID","Technician Login","Work Order Name","Start Date","Start Time",'
            f'"End Date","End Time","Notes","Modified"{CR}'
            f'"1","chris","A","12/01/2026","09:00:00","12/01/2026","10:00:00","",""{CR}'
            f'"2","chris","B","13/45/2026","09:00:00","12/01/2026","10:00:00","",""{CR}'
        ).encode()
    )
    result = run_cli("-c", str(cfg), "import", str(merge), "--map", "wo")
    assert result.returncode == 2
    assert "line 3" in result.stderr and "'Start Date'" in result.stderr
    assert "'13/45/2026' is not a real date" in result.stderr
    assert _stored(cfg, "WO-1") is None

    short = tmp_path / "short.csv"
    short.write_bytes(f'"1","chris"{CR}'.encode())
    result = run_cli(
        "-c",
        str(cfg),
        "import",
        str(short),
        "--map",
        "wo",
        "--columns",
        "Work Order ID,Technician Login",
    )
    assert result.returncode == 2
    assert "Work Order Name" in result.stderr and "the file has: Work Order ID" in result.stderr

    result = run_cli("-c", str(cfg), "import", str(short), "--map", "nope", "--columns", "a")
    assert result.returncode == 2 and "[filemaker:nope]" in result.stderr
    result = run_cli("-c", str(cfg), "import", str(tmp_path / "x.tab"))
    assert result.returncode == 2 and "cannot read" in result.stderr


def test_hostile_export_bytes_give_problems_never_a_crash(tmp_path: Path) -> None:
    """Any bytes in a FileMaker export (control characters, quotes, stray CR, VT and GS, cp1252
    or broken UTF-8, one huge line) end in records or a ValidationError naming the problems:
    never another exception, so `import` exits 2 with a message, not a traceback."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from bridge.errors import ValidationError
    from bridge.validate import validate_batch

    fm = config.parse("[bridge]\ntimezone = America/Chicago\n" + SOURCE).filemaker["wo"]
    fields = list(fm.filemaker_fields())
    header = ",".join(f'"{f}"' for f in fields).encode() + b"\r"
    # cells that are sometimes valid (a login, a US date, a time) among hostile bytes
    piece = st.sampled_from(
        [
            *(b"chris", b"12/01/2026", b"09:30:00", b"7", b",", b'"', b"\r", b"\n", b"\x0b"),
            *(b"\x1d", b"\x00", b"\xe9", b"\xff", b"/", b":", b"13/45/2026", b"25:61:00"),
            b"x" * 300,
        ]
    )
    body = st.lists(piece, max_size=200).map(b"".join)

    @settings(
        max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(body=body, merge=st.booleans())
    def check(body: bytes, merge: bool) -> None:
        path = tmp_path / ("fuzz.mer" if merge else "fuzz.csv")
        path.write_bytes((header if merge else b"") + body)
        columns = None if merge else fields
        try:
            raws = read_export(path, columns=columns, source=fm, map_name="wo")
            validate_batch(raws, "America/Chicago")
        except ValidationError as exc:
            assert exc.problems, "a refusal names its problems"

    check()
