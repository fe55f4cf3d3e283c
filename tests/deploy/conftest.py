"""Fixtures: one ``serve`` process behind a real nginx terminating TLS (tests/proxy.py), with
CalDAV under ``/caldav/`` as the shipped recipe puts it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bridge.caldav import set_password
from tests.admin.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.admin.support import PASSWORD_HASH
from tests.proxy import NGINX, PROXY_ADDRESS, Nginx, ServeProcess, free_port

TOKEN = "ingest-token-for-proxy-tests"
CHRIS_PASSWORD = "chris-caldav-pw"
needs_nginx = pytest.mark.skipif(
    not os.path.exists(NGINX),
    reason="nginx is missing (Debian package 'nginx-light'; make test installs it)",
)


@dataclass
class Deployment:
    nginx: Nginx
    serve: ServeProcess
    folder: Path

    @property
    def url(self) -> str:
        return self.nginx.url


def deployment_ini(folder: Path, port: int) -> Path:
    ini = folder / "bridge.ini"
    ini.write_text(
        "[bridge]\ntimezone = America/Chicago\ndata_dir = data\n"
        f"base_url = https://127.0.0.1:{port}\n"
        f"[web]\nport = 0\ningest_token = {TOKEN}\ntrusted_proxies = {PROXY_ADDRESS}\n"
        f"[caldav]\nport = 0\nbase_url = https://127.0.0.1:{port}/caldav\n"
        f"[admin]\nusername = admin\npassword_hash = {PASSWORD_HASH}\n"
        "[calendar:chris]\nname = Chris\nreaders = pat\n"
    )
    set_password(folder / "data" / "users.htpasswd", "chris", CHRIS_PASSWORD, rounds=4)
    return ini


@pytest.fixture(scope="package")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    if not os.path.exists(NGINX):
        pytest.skip("nginx is missing (Debian package 'nginx-light'; make test installs it)")
    folder = tmp_path_factory.mktemp("deployment")
    port = free_port()
    ini = deployment_ini(folder, port)
    with ServeProcess(ini) as serve:
        nginx = Nginx(
            folder / "nginx",
            web=[serve.address("web")],
            caldav=[serve.address("caldav")],
            port=port,
        )
        with nginx:
            yield Deployment(nginx, serve, folder)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (package scope: see tests/admin/conftest.py)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (Debian package 'chromium')")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
