"""`ipoint-bridge demo` with no configuration: writes a valid config and logins, seeds the
shop, serves CalDAV, feeds and the push API, and keeps the same logins on a restart."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from bridge import config
from tests.support import CLI, ROOT, http


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_demo(folder: Path, ports: tuple[int, int, int, int]) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "TZ": "Pacific/Chatham", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            *CLI,
            "demo",
            "--data",
            str(folder),
            "--port",
            str(ports[0]),
            "--caldav-port",
            str(ports[1]),
            "--google-port",
            str(ports[2]),
            "--filemaker-port",
            str(ports[3]),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    out = []
    deadline = time.monotonic() + 90
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        out.append(line)
        if line.strip() == "ready":
            break
    return proc, "".join(out)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0


def test_demo_serves_every_part_and_restarts_with_same_logins(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    ports = (free_port(), free_port(), free_port(), free_port())
    proc, guide = start_demo(folder, ports)
    try:
        web = f"http://127.0.0.1:{ports[0]}"
        assert f"{web}/admin" in guide and f"http://127.0.0.1:{ports[1]}" in guide
        assert str((folder / "bridge.ini").resolve()) in guide
        settings = config.load(folder / "bridge.ini")
        assert settings.bridge.timezone == "America/Chicago" and settings.google.enabled
        assert oct((folder / "bridge.ini").stat().st_mode & 0o777) == "0o600"
        secrets = json.loads((folder / "demo-logins.json").read_text())
        password = secrets["logins"]["chris"]
        assert f"chris / {password}" in guide
        feed = next(line.split()[-1] for line in guide.splitlines() if "chris: http" in line)
        answer = http("GET", feed)
        assert answer.status == 200 and b"BEGIN:VEVENT" in answer.body
        # read from the FileMaker emulator's iPoint file before "ready", and pushed ones too
        assert b"UID:ipoint-WO-" in answer.body and b"UID:ipoint-PUSH-" in answer.body
        assert "records\nread from FileMaker" in guide and "/api/v1/events/PUSH-NEW" in guide
        assert b"X-WR-TIMEZONE:America/Chicago" in answer.body
        push = http(
            "PUT",
            f"{web}/api/v1/events/WO-T1",
            {"user": "chris", "title": "Demo push", "start": "2026-12-03"},
            {"Authorization": f"Bearer {secrets['ingest_token']}"},
        )
        assert push.status == 200
        basic = base64.b64encode(f"chris:{password}".encode()).decode()
        dav = http(
            "PROPFIND",
            f"http://127.0.0.1:{ports[1]}/chris/",
            headers={"Authorization": f"Basic {basic}", "Depth": "1"},
        )
        assert dav.status == 207
    finally:
        stop(proc)
    proc, again = start_demo(folder, ports)
    try:
        assert f"chris / {password}" in again
    finally:
        stop(proc)
