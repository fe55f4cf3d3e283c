"""Progress of long jobs (bridge.progress): a bar on a terminal (the CLI under a real pty), a
plain line every few seconds otherwise, and a last line with count, time and rate."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
from pathlib import Path

from bridge.progress import Progress
from tests.support import CLI, ROOT, run_in_pty, write_config


def big_export(folder: Path, n: int) -> Path:
    rows = [
        {"id": f"e{i}", "user": f"u{i % 7}", "title": f"Job {i}", "start": "2026-12-01"}
        for i in range(n)
    ]
    path = folder / "export.json"
    path.write_text(json.dumps(rows, indent=1))
    return path


def test_lines_every_few_seconds_when_not_a_terminal() -> None:
    now = [100.0]
    out = io.StringIO()
    with Progress("job", 13, unit="things", stream=out, clock=lambda: now[0]) as progress:
        for _ in range(13):
            now[0] += 1.0
            progress.advance()
    lines = out.getvalue().splitlines()
    assert lines == [
        "job: 5/13 things (38%), 1 things/s",
        "job: 10/13 things (77%), 1 things/s",
        "job: 13/13 things in 13.0 s (1 things/s)",
    ]


def test_import_without_a_terminal_prints_lines(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    export = big_export(tmp_path, 3000)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "IPOINT_BRIDGE_PROGRESS_SECONDS": "0"}
    result = subprocess.run(
        [*CLI, "-c", str(config), "import", str(export)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr
    assert re.search(
        r"^import: checking: \d+/3000 records \(\d+%\), \d+ records/s$", result.stderr, re.M
    )
    assert re.search(r"^import: writing: \d+/3000 records \(\d+%\)", result.stderr, re.M)
    assert re.search(r"^import: writing: 3000/3000 records in [\d.]+ s", result.stderr, re.M)
    assert "3000 records: 3000 created" in result.stdout


def test_import_on_a_terminal_draws_a_bar(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    export = big_export(tmp_path, 3000)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    argv = [*CLI, "-c", str(config), "import", str(export)]
    code, text = run_in_pty(argv, env)
    assert code == 0, text
    # tqdm's bar, redrawn in place with carriage returns: percentage, bar, counts and rate.
    assert "\r" in text
    assert re.search(r"import: writing:\s+\d+%\|.*\| \d+/3000 \[", text), text
    assert re.search(r"records/s\]", text), text
    assert re.search(r"import: writing: 3000/3000 records in [\d.]+ s", text), text
