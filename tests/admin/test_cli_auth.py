"""``ipoint-bridge auth google`` as a subprocess against the emulator: loopback redirect,
``--manual`` paste, and ``--status``."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from google_emulator.testing import EmulatorThread

from tests.admin.support import Client, bridge_ini, consent
from tests.support import ROOT


def start_cli(ini: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "bridge", "-c", str(ini), "auth", "google", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def read_auth_url(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    for _ in range(20):
        line = proc.stdout.readline()
        if "/o/oauth2/v2/auth?" in line:
            return line.strip()
    raise AssertionError("the command printed no sign-in address")


def write_ini(tmp_path: Path, emulator: EmulatorThread) -> Path:
    ini = tmp_path / "bridge.ini"
    ini.write_text(bridge_ini(tmp_path / "data", "http://127.0.0.1:9", emulator.base_url))
    return ini


def saved(tmp_path: Path) -> Path:
    return tmp_path / "data" / "google-credentials.json"


def test_loopback_sign_in(tmp_path: Path, emulator: EmulatorThread) -> None:
    proc = start_cli(write_ini(tmp_path, emulator))
    try:
        url = read_auth_url(proc)
        redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        assert redirect.startswith("http://127.0.0.1:")
        # A request without our state is refused, and the command keeps waiting.
        forged = Client("").get(redirect + "?state=forged&code=4/x")
        assert forged.status == 400
        back = consent(url, email="shop@example.com")
        assert back.startswith(redirect)
        assert Client("").get(back).status == 200
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Signed in to Google as shop@example.com" in out
    path = saved(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    info = json.loads(path.read_text())
    assert info["refresh_token"] not in out + err


def test_manual_sign_in(tmp_path: Path, emulator: EmulatorThread) -> None:
    proc = start_cli(write_ini(tmp_path, emulator), "--manual")
    try:
        url = read_auth_url(proc)
        assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fadmin%2Fgoogle%2Fcallback" in url
        back = consent(url)
        out, err = proc.communicate(back + "\n", timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Signed in to Google as demo@example.com" in out
    assert saved(tmp_path).exists()


def test_manual_sign_in_refuses_another_sign_ins_address(
    tmp_path: Path, emulator: EmulatorThread
) -> None:
    ini = write_ini(tmp_path, emulator)
    first = start_cli(ini, "--manual")
    try:
        other = consent(read_auth_url(first))
    finally:
        first.kill()
    proc = start_cli(ini, "--manual")
    try:
        read_auth_url(proc)
        _out, err = proc.communicate(other + "\n", timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1
    assert "another sign-in" in err
    assert not saved(tmp_path).exists()


def test_status(tmp_path: Path, emulator: EmulatorThread) -> None:
    ini = write_ini(tmp_path, emulator)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "bridge", "-c", str(ini), "auth", "google", "--status"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 1
    assert "Not signed in yet" in result.stdout
