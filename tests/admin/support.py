"""Helpers for the admin tests: the bridge's real web server on a loopback port whose number is
known before the app is built (its base URL is the OAuth redirect), a cookie-keeping HTTP client,
and an in-memory mirror honouring ``MirrorControl``."""

from __future__ import annotations

import asyncio
import functools
import http.client
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import bcrypt
from aiohttp import web
from google_emulator.settings import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

from bridge import config
from bridge.mirror.control import (
    MIRROR_CONTROL,
    CalendarStatus,
    MirrorMetrics,
    Progress,
    ProgressCallback,
)
from bridge.runtime import open_store
from bridge.store import EventStore
from bridge.web.app import create_app
from tests.support import ServerThread

PASSWORD = "correct horse battery staple"
# Few rounds: the tests check the logic, not bcrypt's cost.
PASSWORD_HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()


def bridge_ini(
    data_dir: Path,
    base_url: str,
    emulator_url: str = "",
    extra: str = "",
    caldav: str = "enabled = no\n",
) -> str:
    google = ""
    if emulator_url:
        google = (
            "[google]\n"
            f"api_endpoint = {emulator_url}\n"
            f"auth_uri = {emulator_url}/o/oauth2/v2/auth\n"
            f"token_uri = {emulator_url}/token\n"
            f"revoke_uri = {emulator_url}/revoke\n"
            f"client_id = {DEFAULT_CLIENT_ID}\n"
            f"client_secret = {DEFAULT_CLIENT_SECRET}\n"
        )
    return (
        f"[bridge]\ntimezone = America/Chicago\ndata_dir = {data_dir}\nbase_url = {base_url}\n"
        f"[admin]\nusername = admin\npassword_hash = {PASSWORD_HASH}\n"
        + "[caldav]\n"
        + caldav
        + "[calendar:chris]\nname = Chris\nshare_with = boss@example.com\npublic = yes\n"
        + google
        + extra
    )


class BridgeServer(ServerThread):
    """``create_app`` served from a thread on 127.0.0.1; the port is the OS's pick (port 0),
    taken before the settings are written so ``base_url`` is the real address."""

    def __init__(
        self,
        folder: Path,
        *,
        emulator_url: str = "",
        extra: str = "",
        caldav: str = "enabled = no\n",
        prepare: Callable[[web.Application, EventStore], None] | None = None,
    ) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.ini = folder / "bridge.ini"
        self.ini.write_text(bridge_ini(folder / "data", url, emulator_url, extra, caldav))
        self.settings = config.load(self.ini)
        self.store = open_store(self.settings)
        app = create_app(self.settings, self.store, mirror=False)
        if prepare is not None:
            prepare(app, self.store)
        super().__init__(app, sock)
        self.url = url

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self.store.close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Reply:
    status: int
    headers: Any
    text: str

    @property
    def location(self) -> str:
        return str(self.headers.get("Location", ""))


class _FromAddress(urllib.request.HTTPHandler):
    """Connects from a given loopback address (127.0.0.2...), as another client would."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self._source = source

    def http_open(self, req: Any) -> Any:
        connection = functools.partial(http.client.HTTPConnection, source_address=(self._source, 0))
        return self.do_open(connection, req)


class Client:
    """A cookie-keeping HTTP client that does not follow redirects (tests look at them);
    ``source`` makes it connect from another loopback address."""

    def __init__(self, base: str, *, source: str = "") -> None:
        self.base = base
        self.jar = CookieJar()
        handlers: list[Any] = [urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect]
        if source:
            handlers.append(_FromAddress(source))
        self._opener = urllib.request.build_opener(*handlers)

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        url = path if "://" in path else self.base + path
        data = urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        try:
            with self._opener.open(req, timeout=30) as response:
                return Reply(response.status, response.headers, response.read().decode())
        except urllib.error.HTTPError as err:
            return Reply(err.code, err.headers, err.read().decode())

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str]) -> Reply:
        return self.request("POST", path, form)

    def csrf(self, path: str = "/admin") -> str:
        page = self.get(path)
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found, f"no CSRF token on {path}: {page.status}"
        return found.group(1)

    def login(self, password: str = PASSWORD, username: str = "admin") -> Reply:
        token = self.csrf("/admin/login")
        return self.post(
            "/admin/login", {"csrf": token, "username": username, "password": password}
        )


def consent(auth_url: str, email: str = "demo@example.com", action: str = "allow") -> str:
    """Act as the person on the emulator's consent page; returns the redirect address."""
    client = Client("")
    page = client.get(auth_url)
    assert page.status == 200, page.text
    pending = re.search(r'name="pending" value="([^"]+)"', page.text)
    assert pending
    root = auth_url.split("/o/oauth2/")[0]
    reply = client.post(
        root + "/signin/oauth/consent",
        {"pending": pending.group(1), "email": email, "action": action},
    )
    assert reply.status == 302, reply.text
    return reply.location


@dataclass
class FakeMirror:
    """``MirrorControl`` over the event store: a re-push walks today's and future events."""

    store: EventStore
    step_seconds: float = 0.05
    statuses: dict[str, CalendarStatus] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=lambda: {"ok": 0})
    runs: list[str] = field(default_factory=list)

    def calendar_status(self, login: str) -> CalendarStatus | None:
        return self.statuses.get(login)

    async def _walk(self, kind: str, progress: ProgressCallback) -> str:
        self.runs.append(kind)
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        far = datetime(9999, 1, 1, tzinfo=UTC)

        def future() -> list[Any]:
            out: list[Any] = []
            for user in self.store.users():
                out += list(self.store.iter_range(user.login, today, far))
            return out

        items = await asyncio.to_thread(future)
        for done in range(len(items) + 1):
            progress(Progress(done, len(items)))
            if done < len(items):
                self.calls["ok"] += 1
                await asyncio.sleep(self.step_seconds)
        return f"{len(items)} events sent to Google" if kind == "repush" else "no differences"

    async def repush_future(self, progress: ProgressCallback) -> str:
        return await self._walk("repush", progress)

    async def reconcile(self, progress: ProgressCallback) -> str:
        return await self._walk("reconcile", progress)

    def metrics(self) -> MirrorMetrics:
        return MirrorMetrics(dict(self.calls), queue_depth=3, lag_seconds=1.5)

    def writes_to_google(self) -> bool:
        return True


def with_fake_mirror(
    holder: dict[str, FakeMirror], **kwargs: Any
) -> Callable[[web.Application, EventStore], None]:
    """A ``prepare`` hook installing a ``FakeMirror`` (kept in ``holder['mirror']``)."""

    def prepare(app: web.Application, store: EventStore) -> None:
        holder["mirror"] = FakeMirror(store, **kwargs)
        app[MIRROR_CONTROL] = holder["mirror"]

    return prepare


def wait_until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")
