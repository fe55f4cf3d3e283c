"""The CLI as a subprocess: check, import (JSON, JSON lines, CSV), --replace and its valve."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

from bridge import config
from bridge.runtime import open_store
from tests.support import ROOT, run_cli, write_config


def stored_ids(cfg: Path) -> set[str]:
    store = open_store(config.load(cfg))
    try:
        return {e.id for u in store.users() for e in store.iter_calendar(u.login)}
    finally:
        store.close()


def test_check_names_file_section_option_value(tmp_path: Path) -> None:
    good = write_config(tmp_path)
    assert run_cli("-c", str(good), "check").returncode == 0
    bad = tmp_path / "bad.ini"
    bad.write_text("[bridge]\ntimezone = America/Chicago\n[web]\nport = eighty\n")
    result = run_cli("-c", str(bad), "check")
    assert result.returncode == 2
    assert "bad.ini" in result.stderr and "[web]" in result.stderr and "'port'" in result.stderr
    assert "'eighty'" in result.stderr
    missing = tmp_path / "nozone.ini"
    missing.write_text("[bridge]\ndata_dir = x\n")
    result = run_cli("-c", str(missing), "check")
    assert result.returncode == 2 and "timezone" in result.stderr


def test_example_config_is_complete_and_valid() -> None:
    text = (ROOT / "config" / "bridge.ini").read_text()
    assert text == config.example() + "\n", "regenerate: ipoint-bridge config example"
    config.parse(text, "bridge.ini")
    shipped = resources.files("bridge").joinpath("data/bridge.example.ini").read_text()
    assert shipped == text, "the packaged example differs from config/bridge.ini"
    printed = run_cli("config", "example")
    assert printed.returncode == 0 and printed.stdout == text


def test_import_formats(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    (tmp_path / "a.json").write_text(
        json.dumps([{"id": "j1", "user": "chris", "title": "A", "start": "2026-12-01"}])
    )
    (tmp_path / "b.jsonl").write_text(
        json.dumps({"id": "l1", "user": "dana", "title": "B", "start": "2026-12-01"}) + "\n"
    )
    (tmp_path / "c.csv").write_text(
        "id,user,title,start,end,attendees\n"
        'c1,sam,"Rack, wire",2026-12-01T09:00,2026-12-01T10:00,"chris,dana"\n'
    )
    for name in ("a.json", "b.jsonl", "c.csv"):
        result = run_cli("-c", str(cfg), "import", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
    assert stored_ids(cfg) == {"j1", "l1", "c1"}


def test_bad_file_exits_2_with_line_numbers_and_changes_nothing(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    (tmp_path / "bad.json").write_text(
        '[\n  {"id": "ok", "user": "chris", "title": "A", "start": "2026-12-01"},\n'
        '  {"id": "x", "user": "chris", "title": "B",\n   "start": "2026-12-40"}\n]\n'
    )
    result = run_cli("-c", str(cfg), "import", str(tmp_path / "bad.json"))
    assert result.returncode == 2
    assert "line 3, record 'x', field 'start'" in result.stderr
    assert "nothing was changed" in result.stderr
    (tmp_path / "bad.csv").write_text(
        "id,user,title,start\nc1,chris,ok,2026-12-01\nc2,chris,,2026-12-01\n"
    )
    result = run_cli("-c", str(cfg), "import", str(tmp_path / "bad.csv"))
    assert result.returncode == 2 and "line 3, record 'c2', field 'title'" in result.stderr
    assert stored_ids(cfg) == set()


def test_replace_deletes_missing_with_safety_valve(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    rows = [{"id": f"w{i}", "user": "chris", "title": "A", "start": "2026-12-01"} for i in range(8)]
    full = tmp_path / "full.jsonl"
    full.write_text("\n".join(json.dumps(r) for r in rows))
    assert run_cli("-c", str(cfg), "import", str(full)).returncode == 0
    half = tmp_path / "half.jsonl"
    half.write_text("\n".join(json.dumps(r) for r in rows[:4]))
    result = run_cli("-c", str(cfg), "import", "--replace", str(half))
    assert result.returncode == 2 and "refusing to delete 4 of 8" in result.stderr
    assert len(stored_ids(cfg)) == 8
    most = tmp_path / "most.jsonl"
    most.write_text("\n".join(json.dumps(r) for r in rows[:6]))
    result = run_cli("-c", str(cfg), "import", "--replace", str(most))
    assert result.returncode == 0 and "2 deleted" in result.stdout
    result = run_cli("-c", str(cfg), "import", "--replace", "--force", str(half))
    assert result.returncode == 0 and stored_ids(cfg) == {f"w{i}" for i in range(4)}


def test_import_loads_no_other_commands_dependencies(tmp_path: Path) -> None:
    """``import`` (100,000 records at 5,000 a second: bench/ingest_bench.py) starts without the
    web, mirror, OAuth and CalDAV stacks the other commands need: loading them cost a second
    before the first record was read."""
    cfg = write_config(tmp_path)
    path = tmp_path / "a.json"
    path.write_text(
        json.dumps([{"id": "j1", "user": "chris", "title": "A", "start": "2026-12-01"}])
    )
    heavy = ("aiohttp", "googleapiclient", "google", "radicale", "bridge.web", "bridge.mirror")
    code = (
        "import sys\nfrom bridge.cli import main\n"
        f"code = main(['-c', {str(cfg)!r}, 'import', {str(path)!r}])\n"
        f"print(sorted(m for m in sys.modules if m.startswith({heavy!r})))\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert "a.json: 1 records: 1 created" in result.stdout
    assert result.stdout.splitlines()[-1] == "[]"
