"""The shipped deployment files are valid for the tools that read them: the systemd unit
(``systemd-analyze verify`` and its offline security score), the whole nginx site file
(``nginx -t``), and the Caddyfile (``caddy adapt``). The nginx locations also run for real in
the other tests of this folder."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.proxy import LOCATIONS, NGINX, make_certificate
from tests.support import ROOT

DEPLOY = ROOT / "deploy"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
CADDY = shutil.which("caddy")


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is missing")
def test_systemd_unit_verifies_and_is_hardened(tmp_path: Path) -> None:
    assert SYSTEMD_ANALYZE is not None
    text = (DEPLOY / "systemd" / "ipoint-bridge.service").read_text()
    for option in (
        "User=ipoint-bridge",
        "StateDirectory=ipoint-bridge",
        "ConfigurationDirectory=ipoint-bridge",
        "UMask=0077",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "Environment=IPOINT_BRIDGE_CONFIG=/etc/ipoint-bridge/bridge.ini",
    ):
        assert option in text.splitlines(), option
    # verify wants the programs to exist: point them at this checkout's.
    program = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "ipoint-bridge"
    if not program.exists():
        program = Path(shutil.which("ipoint-bridge") or "/nonexistent")
    unit = tmp_path / "ipoint-bridge.service"
    unit.write_text(text.replace("/opt/ipoint-bridge/bin/ipoint-bridge", str(program)))
    verify = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert verify.returncode == 0, verify.stderr
    assert "ipoint-bridge.service" not in verify.stderr, verify.stderr  # no warnings about it
    security = subprocess.run(
        [SYSTEMD_ANALYZE, "security", "--offline=true", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = re.search(
        r"Overall exposure level for ipoint-bridge.service: ([\d.]+)", security.stdout
    )
    assert found, security.stdout + security.stderr
    assert float(found.group(1)) <= 2.0, security.stdout  # systemd calls up to 2.0 "OK"


@pytest.mark.skipif(not os.path.exists(NGINX), reason="nginx is missing")
def test_nginx_site_file_is_valid(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    site = (DEPLOY / "nginx" / "ipoint-bridge.conf").read_text()
    site = site.replace("/etc/nginx/snippets/ipoint-bridge-locations.conf", str(LOCATIONS))
    site = re.sub(r"/etc/letsencrypt/live/[^;]+/fullchain\.pem", str(cert), site)
    site = re.sub(r"/etc/letsencrypt/live/[^;]+/privkey\.pem", str(key), site)
    # The commented CalDAV-at-the-root server, switched on.
    head, tail = site.split("# server {", 1)
    site = head + re.sub(r"^# ?", "", "# server {" + tail, flags=re.M)
    (tmp_path / "site.conf").write_text(site)
    conf = tmp_path / "nginx.conf"
    temps = "".join(f"{k}_temp_path {tmp_path / k};\n" for k in ("client_body", "proxy"))
    conf.write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\n"
        "events {}\nhttp {\n" + temps + f"include {tmp_path / 'site.conf'};\n}}\n"
    )
    result = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "server_name calendar.example.com" in site and "server_name caldav.example.com" in site


@pytest.mark.skipif(CADDY is None, reason="caddy is missing (Debian package 'caddy')")
def test_caddyfile_adapts(tmp_path: Path) -> None:
    assert CADDY is not None
    result = subprocess.run(
        [CADDY, "adapt", "--config", str(DEPLOY / "caddy" / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert '"X-Script-Name":["/caldav"]' in result.stdout
    assert '"strip_path_prefix":"/caldav"' in result.stdout
