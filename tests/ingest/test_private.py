"""Item 9 of issue 10: what the bridge writes is private, ``check`` warns about readable
secrets, and secret URL paths never reach a log line or the admin page."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bridge.caldav.htpasswd import set_password
from bridge.mirror.caldav_client import SourceError
from bridge.mirror.ics_client import read
from bridge.mirror.sources import SourceSpec
from bridge.redact import redact_text, redact_url
from tests.caldav.conftest import auth, serving
from tests.support import ServerThread, http, run_cli, serve_cli

TOKEN = "private-test-token"
FEED_TOKEN = "Xk3_aZ9qLmN0pQrStUvWxYz12345678abcd"
GOOGLE_PRIVATE = "private-0123456789abcdef0123456789abcdef"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[dict[str, str]]:
    config = tmp_path / "bridge.ini"
    config.write_text(
        "[bridge]\ntimezone = America/Chicago\ndata_dir = data\n"
        f"[web]\nport = 0\ningest_token = {TOKEN}\n[caldav]\nport = 0\n"
    )
    os.chmod(config, 0o600)
    with serve_cli(config, umask=0o022) as urls:  # the usual umask: files 0644 unless told
        set_password(tmp_path / "data" / "users.htpasswd", "chris", "pw", rounds=4)
        yield urls


def test_serve_writes_nothing_others_can_read(serve: dict[str, str], tmp_path: Path) -> None:
    """Reproduces: the data folder and technicians' personal calendars were 0755/0644."""
    event = {
        "user": "chris",
        "title": "Job",
        "start": "2026-12-01T09:00",
        "end": "2026-12-01T10:00",
    }
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert http("PUT", serve["web"] + "/api/v1/events/p-1", event, headers).status == 200
    login = auth("chris", "pw")
    assert http("MKCALENDAR", serve["caldav"] + "/chris/personal/", headers=login).status == 201
    item = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:own-1\r\n"
        "DTSTAMP:20261201T000000Z\r\nDTSTART:20261201T150000Z\r\nSUMMARY:Dentist\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    put = http("PUT", serve["caldav"] + "/chris/personal/own-1.ics", item, login)
    assert put.status == 201
    data = tmp_path / "data"
    assert mode(data) == 0o700
    for name in (
        "bridge.sqlite3",
        "bridge.sqlite3-wal",
        "bridge.sqlite3-shm",
        "users.htpasswd",
        "caldav-rights.ini",
    ):
        assert mode(data / name) == 0o600, name
    personal = list((data / "collections").rglob("*"))
    assert any(p.name == "own-1.ics" for p in personal)
    for path in [data / "collections", *personal]:
        assert mode(path) & 0o077 == 0, (path, oct(mode(path)))


def test_in_process_servers_keep_the_data_folder_private(tmp_path: Path) -> None:
    """The same without the CLI's umask: the data folder, Radicale's storage folder and each
    user's folder in it are 0700 (Radicale creates a new calendar's folder with the process
    umask, inside them), the database 0600; a data folder left 0755 is closed."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    old = os.umask(0o022)
    try:
        with serving(tmp_path) as server:
            assert http("MKCALENDAR", server.url + "/dana/own/", headers=auth("dana")).status == 201
            assert mode(data) == 0o700
            assert mode(data / "bridge.sqlite3") == 0o600
            assert mode(data / "bridge.sqlite3-wal") == 0o600
            root = data / "collections"
            assert mode(root) == 0o700
            assert mode(root / "collection-root" / "dana") == 0o700
    finally:
        os.umask(old)


def test_check_warns_about_a_readable_config_holding_secrets(tmp_path: Path) -> None:
    """Reproduces: `check` accepted a world-readable config holding the ingest token."""
    config = tmp_path / "bridge.ini"
    config.write_text(
        f"[bridge]\ntimezone = America/Chicago\ndata_dir = data\n[web]\ningest_token = {TOKEN}\n"
    )
    os.chmod(config, 0o644)
    result = run_cli("-c", str(config), "check")
    assert result.returncode == 0
    assert "warning" in result.stderr and "[web] ingest_token" in result.stderr
    assert "chmod 600" in result.stderr and TOKEN not in result.stderr
    os.chmod(config, 0o600)
    result = run_cli("-c", str(config), "check")
    assert result.returncode == 0 and "warning" not in result.stderr


def test_secret_url_paths_are_redacted() -> None:
    shown = redact_url(
        f"https://calendar.google.com/calendar/ical/x%40group.calendar.google.com/{GOOGLE_PRIVATE}/basic.ics"
    )
    assert GOOGLE_PRIVATE not in shown and shown.endswith("/…/basic.ics")
    assert (
        redact_url(f"https://u:pw@h.example/feeds/{FEED_TOKEN}.ics?x=1")
        == "https://h.example/feeds/….ics"
    )
    assert redact_url("http://h:5232/chris/ipoint/") == "http://h:5232/chris/ipoint/"
    assert (
        redact_url("https://h/company-holidays/basic.ics") == "https://h/company-holidays/basic.ics"
    )
    assert FEED_TOKEN not in redact_text(f"cannot reach https://h/feeds/{FEED_TOKEN}.ics: 404")


def test_a_failing_source_names_no_secret(tmp_path: Path) -> None:
    """Reproduces: a mirror source's URL path (where feed tokens live) was logged and shown
    on the admin page as the calendar's last error."""

    async def gone(request: web.Request) -> web.Response:
        return web.Response(status=404)

    app = web.Application()
    app.router.add_get("/{tail:.*}", gone)
    with ServerThread(app) as srv:
        spec = SourceSpec(url=f"{srv.url}/calendar/ical/x/{GOOGLE_PRIVATE}/basic.ics", kind="ics")

        async def fetch() -> str:
            async with aiohttp.ClientSession() as session:
                try:
                    async for _ in read(session, spec, {}):
                        pass
                except SourceError as exc:
                    return str(exc)
            return ""

        message = asyncio.run(fetch())
    assert "404" in message and GOOGLE_PRIVATE not in message
