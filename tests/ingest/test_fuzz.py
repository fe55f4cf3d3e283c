"""Fuzzing ingest (issue 10, "done when"): the push API over real HTTP (the aiohttp app on a
real socket beside the real CalDAV server) and `import` (JSON, JSON lines, CSV; in-process for
volume, the CLI as a subprocess for a few files) take hostile records. Properties: never a 5xx
or a crash; a refusal changes nothing; every accepted record still gives well-formed XML and
iCalendar on every read path (each answer parsed); and the Google mirror keeps going."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from bridge.config import load
from bridge.errors import ValidationError
from bridge.ical import item_text
from bridge.importer import read_records
from bridge.runtime import open_store
from bridge.store import EventStore
from bridge.validate import validate_batch
from tests.ingest.strategies import records
from tests.ingest.support import Bridge, running
from tests.support import run_cli, write_config

FUZZ = settings(
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def fingerprint(store: EventStore) -> tuple[Any, ...]:
    """Everything a write changes: the users, and each calendar's change position."""
    users = sorted(u.login for u in store.users())
    states = [store.calendar_state(u) for u in users]
    return tuple(users), tuple(s.seq if s else 0 for s in states)


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    with running(tmp_path_factory.mktemp("fuzz")) as b:
        yield b


@FUZZ
@given(record=records(), how=st.sampled_from(["put", "batch"]))
def test_push_api_never_fails_and_refusals_change_nothing(
    bridge: Bridge, record: dict[str, Any], how: str
) -> None:
    store = bridge.caldav.store
    before = fingerprint(store)
    body = json.dumps(record, allow_nan=True)  # NaN/Infinity literals, \udXXX escapes
    if how == "put":
        path_id = record["id"] if isinstance(record["id"], str) and record["id"] else "fz"
        answer = bridge.push(quote(path_id, safe=""), body)
    else:
        answer = bridge.batch("[" + body + "]")
    assert answer.status < 500, (answer.status, answer.body[:500])
    event(f"{how}: {answer.status}")
    if answer.status != 200:
        assert 400 <= answer.status < 500
        assert fingerprint(store) == before
        return
    stored = store.get(str(record["id"]))
    assert stored is not None
    # chris and dana have CalDAV logins; a new login's calendar is read like theirs.
    for login in {"chris", "dana"} & set(stored.record().calendars):
        seen = bridge.read_all(login)
        assert f"ipoint-{stored.id}" in seen


def write_export(rows: list[Any], fmt: str, folder: Path) -> Path:
    if fmt == "json":
        path = folder / "export.json"
        path.write_text(json.dumps(rows, allow_nan=True, indent=1), encoding="utf-8")
    elif fmt == "jsonl":
        path = folder / "export.jsonl"
        path.write_text("\n".join(json.dumps(r, allow_nan=True) for r in rows), encoding="utf-8")
    else:
        path = folder / "export.csv"
        keys = sorted({str(k) for r in rows for k in r})
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(keys)
        for r in rows:
            cells = {str(k): v for k, v in r.items()}
            writer.writerow(
                [
                    ",".join(map(str, v)) if isinstance(v, list) else ("" if v is None else str(v))
                    for v in (cells.get(k) for k in keys)
                ]
            )
        # Lone surrogates cannot be UTF-8: the file gets the bytes Python would write for them.
        path.write_bytes(out.getvalue().encode("utf-8", "surrogatepass"))
    return path


@pytest.fixture(scope="module")
def import_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EventStore, Path]]:
    folder = tmp_path_factory.mktemp("fuzz-import")
    store = open_store(load(write_config(folder)))
    yield store, folder
    store.close()


@FUZZ
@given(
    rows=st.lists(records(), min_size=1, max_size=6), fmt=st.sampled_from(["json", "jsonl", "csv"])
)
def test_import_never_fails_and_refusals_change_nothing(
    import_store: tuple[EventStore, Path], rows: list[dict[str, Any]], fmt: str
) -> None:
    store, folder = import_store
    before = fingerprint(store)
    path = write_export(rows, fmt, folder)
    try:
        accepted = validate_batch(read_records(path), "America/Chicago")
    except ValidationError as exc:
        assert exc.problems
        assert fingerprint(store) == before
        event(f"{fmt}: refused")
        return
    event(f"{fmt}: accepted")
    store.apply(accepted)
    for record in accepted:
        stored = store.get(record.id)
        assert stored is not None
        text = item_text(stored.ics, stored.tzid)
        ET.fromstring(f"<calendar-data>{escape(text)}</calendar-data>")
        (vevent,) = Calendar.from_ical(text).walk("VEVENT")
        assert str(vevent["SUMMARY"]) == record.title


BAD_FILES = {
    "nan.json": '[{"id": "a", "user": "chris", "title": NaN, "start": "2026-12-01"}]',
    "deep.json": "[" * 50_000 + "]" * 50_000,
    "huge-int.json": '[{"id": "a", "user": "chris", "title": 1' + "0" * 5000 + "}]",
    "garbage.json": '[{"id": "a", "user": "chris", "title": "t", "start": "2026-12-01"}] x',
    "dots.csv": "id,user,title,start\na,..,t,2026-12-01\n",
    "edge.jsonl": '{"id": "a", "user": "chris", "title": "t", "start": "9999-12-31"}\n',
    "secondly.jsonl": '{"id": "a", "user": "chris", "title": "t", "start": "2026-12-01T09:00",'
    ' "end": "2026-12-01T09:01", "rrule": "FREQ=SECONDLY;COUNT=100000000"}\n',
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_cli_import_refuses_bad_files_with_exit_2(tmp_path: Path, name: str) -> None:
    config = write_config(tmp_path)
    path = tmp_path / name
    path.write_text(BAD_FILES[name], encoding="utf-8")
    result = run_cli("-c", str(config), "import", str(path), timeout=60)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "nothing was changed" in result.stderr
    assert len(result.stderr) < 4000


def test_cli_import_takes_filemaker_text(tmp_path: Path) -> None:
    """A FileMaker CSV export: CR between records, VT inside fields, GS between repeats."""
    config = write_config(tmp_path)
    path = tmp_path / "export.csv"
    path.write_bytes(
        b"id,user,title,start,end,description\r"
        b"fm-1,chris,Rack\x0bswap,2026-12-01T09:00,2026-12-01T10:00,one\x0btwo\x1dthree\x00\r"
    )
    result = run_cli("-c", str(config), "import", str(path), timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    store = open_store(load(config))
    try:
        stored = store.get("fm-1")
        assert stored is not None and stored.record().description == "one\ntwo\nthree"
        ET.fromstring(f"<d>{escape(item_text(stored.ics, stored.tzid))}</d>")
    finally:
        store.close()
