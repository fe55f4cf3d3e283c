"""A shop for mirror tests: a config pointing at the Google emulator, a store, the bridge's own
CalDAV server on a loopback port, a signed-in credentials file, and helpers to change iPoint
data, run the mirror, and look at (or edit by hand) what Google holds."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from aiohttp import web
from google_emulator.testing import EmulatorThread

from bridge import config
from bridge.caldav import start_caldav
from bridge.google.client import Tuning
from bridge.google.credentials import AuthorizedUser, credentials_path, save_authorized_user
from bridge.mirror.engine import Health, Mirror
from bridge.mirror.mirror_pass import mirror_pass
from bridge.mirror.reconcile import reconcile as reconcile_all
from bridge.mirror.sources import Target
from bridge.runtime import open_store
from bridge.validate import validate_batch

ACCOUNT = "demo@example.com"
TZ = "America/Chicago"
FAST = Tuning(backoff_base_s=0.02, backoff_cap_s=0.3, max_attempts=10, timeout_s=10)


def ini_text(emu_url: str, extra: str = "", *, rate: int = 60000, batch: int = 50) -> str:
    return f"""[bridge]
timezone = {TZ}
data_dir = data
[caldav]
host = 127.0.0.1
port = 0
service_user = ipoint-mirror
service_password = mirror-secret
[google]
enabled = yes
api_endpoint = {emu_url}
token_uri = {emu_url}/token
rate_per_minute = {rate}
batch_size = {batch}
quota_pause_minutes = 1
[mirror]
interval_seconds = 0.2
{extra}
"""


def sign_in(emu: EmulatorThread, settings: config.Settings, email: str = ACCOUNT) -> None:
    info = emu.authorized_user_info(email)
    save_authorized_user(
        credentials_path(settings),
        AuthorizedUser(
            info["client_id"], info["client_secret"], info["refresh_token"], info["token_uri"]
        ),
    )


class Google:
    """Raw calls to the emulator as the shop's account (hand edits, listings)."""

    def __init__(self, emu: EmulatorThread, email: str = ACCOUNT) -> None:
        self.emu = emu
        self.token = emu.authorized_user_info(email)["access_token"]

    def call(self, method: str, path: str, body: Any = None, **query: Any) -> tuple[int, Any]:
        url = f"{self.emu.base_url}/calendar/v3/{path}"
        if query:
            url += "?" + urlencode(query, doseq=True)
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self.token}"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            return exc.code, json.loads(raw) if raw else None

    def events_path(self, cid: str, gid: str = "") -> str:
        path = f"calendars/{quote(cid, safe='')}/events"
        return f"{path}/{quote(gid, safe='')}" if gid else path


class Shop:
    """One test's bridge: config, store, CalDAV server, and the mirror's view of Google."""

    def __init__(self, root: Path, emu: EmulatorThread, extra: str = "", **ini: Any) -> None:
        self.root = root
        self.emu = emu
        self.path = root / "bridge.ini"
        self.path.write_text(ini_text(emu.base_url, extra, **ini))
        self.settings = config.load(self.path)
        sign_in(emu, self.settings)
        self.store = open_store(self.settings)
        self.caldav = start_caldav(self.settings, store=self.store, host="127.0.0.1", port=0)
        self.google = Google(emu)
        self._mirror: Mirror | None = None

    def reconfigure(self, extra: str, **ini: Any) -> None:
        """New INI contents (e.g. changed sharing); the next ``mirror()`` uses them."""
        self.path.write_text(ini_text(self.emu.base_url, extra, **ini))
        self.settings = config.load(self.path)
        self._mirror = None

    def mirror(self, **kw: Any) -> Mirror:
        if self._mirror is None or kw:
            self._mirror = Mirror(
                self.settings,
                self.store.db,
                users=self.store.users,
                caldav_base=self.caldav.url,
                tuning=kw.pop("tuning", FAST),
                **kw,
            )
        return self._mirror

    def put(self, *raws: dict[str, Any]) -> None:
        self.store.apply(validate_batch([(None, dict(r)) for r in raws], TZ))

    def delete(self, *ids: str) -> None:
        self.store.apply([], list(ids))

    def sync(
        self,
        mirror: Mirror | None = None,
        *,
        timeout: float = 60,
        reconcile: bool = False,
        allow_empty: bool = False,
    ) -> Health:
        """One converging pass, as ``sync --once [--reconcile]`` runs it."""
        m = mirror or self.mirror()

        async def job(targets: list[Target]) -> None:
            await m.run(reconcile_all, m)

        async def run() -> Health:
            async with aiohttp.ClientSession() as session:
                report = await mirror_pass(
                    m,
                    session,
                    job=job if reconcile else None,
                    allow_empty=allow_empty,
                    converge_by=time.time() + timeout,
                )
                return report.health

        return asyncio.run(run())

    def calls(self) -> int:
        return self.mirror().counter.total()

    def calendar_id(self, login: str) -> str:
        row = self.mirror().status.calendar("user:" + login)
        assert row is not None and row.google_id, f"no Google calendar for {login}"
        return row.google_id

    def snapshot_calendar(self, cid: str) -> dict[str, Any]:
        for cal in self.emu.control("GET", "snapshot")["calendars"]:
            if cal["calendar"]["id"] == cid:
                return dict(cal)
        raise AssertionError(f"calendar {cid} not in the emulator")

    def events(self, login: str, *, cancelled: bool = False) -> dict[str, dict[str, Any]]:
        """Google's events of ``login``'s calendar by id (live ones unless ``cancelled``)."""
        cal = self.snapshot_calendar(self.calendar_id(login))
        return {e["id"]: e for e in cal["events"] if cancelled or e.get("status") != "cancelled"}

    def close(self) -> None:
        if self._mirror is not None:
            self._mirror.shutdown()
        self.caldav.stop()
        self.store.close()


def record(rid: str, user: str = "chris", **fields: Any) -> dict[str, Any]:
    base = {
        "id": rid,
        "user": user,
        "user_name": user.title(),
        "title": f"Job {rid}",
        "start": "2030-05-06T09:00",
        "end": "2030-05-06T10:30",
    }
    base.update(fields)
    return base


class IcsServer:
    """A tiny ICS feed on a loopback port (its own thread and loop), with ETag support."""

    def __init__(self, text: str = "") -> None:
        self.text = text
        self.version = 0
        self.gets = 0
        self.not_modified = 0
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    def set(self, text: str) -> None:
        self.text = text
        self.version += 1

    async def _handle(self, request: web.Request) -> web.Response:
        self.gets += 1
        etag = f'"v{self.version}"'
        if request.headers.get("If-None-Match") == etag:
            self.not_modified += 1
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=self.text.encode(), content_type="text/calendar", headers={"ETag": etag}
        )

    async def _start(self) -> str:
        app = web.Application()
        app.router.add_get("/feed.ics", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/feed.ics"

    def __enter__(self) -> IcsServer:
        self._thread.start()
        self.url = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def vcalendar(*vevents: str) -> str:
    body = "".join(v.strip() + "\r\n" for v in vevents)
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + body + "END:VCALENDAR\r\n"


def lines(*items: str) -> str:
    return "\r\n".join(items)


def ids(events: Sequence[dict[str, Any]]) -> list[str]:
    return sorted(e["id"] for e in events)


def iter_live(cal: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for e in cal["events"]:
        if e.get("status") != "cancelled":
            yield e
