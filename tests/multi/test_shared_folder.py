"""Two instances sharing a data folder write the same generated files (Radicale's rights file,
the htpasswd file) at start: neither may fail nor leave a torn file (today's "cannot listen"
came from both writing ``caldav-rights.ini.tmp`` and one renaming it away from the other)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROUNDS = 300

CHILD = """
import sys, time
from pathlib import Path
from bridge.files import write_private
target, go, text = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
print("waiting", flush=True)
deadline = time.monotonic() + 60
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.002)
for _ in range(int(sys.argv[4])):
    write_private(target, text)
"""


def test_processes_writing_one_private_file_at_once(tmp_path: Path) -> None:
    target, go = tmp_path / "caldav-rights.ini", tmp_path / "go"
    texts = ["a" * 50_000 + "\n", "b" * 50_000 + "\n"]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(target), str(go), text, str(ROUNDS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for text in texts
    ]
    for child in children:
        assert child.stdout is not None and child.stdout.readline().strip() == "waiting"
    go.touch()
    for child in children:
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    assert target.read_text() in texts  # whole, one writer's
    assert target.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["caldav-rights.ini", "go"]
