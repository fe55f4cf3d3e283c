"""Two ``serve`` processes (the CLI, as subprocesses) on one PostgreSQL store and one data
folder, behind a real nginx: the admin's session, pushes and CalDAV work on both; exactly one
writes to Google, and when it is killed with SIGKILL in the middle of a mirror pass the other
takes over within 30 s, leaving each technician's Google calendar once with every event once."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from google_emulator.settings import EmulatorSettings
from google_emulator.testing import EmulatorThread

from bridge.store.postgres import PostgresDatabase
from bridge.store.sql import SQLEventStore
from bridge.validate import validate_batch
from tests import pg
from tests.admin.support import PASSWORD
from tests.multi.support import (
    TECHS,
    TOKEN,
    basic,
    duplicates,
    google_calendars,
    google_events,
    instance_ini,
    wait_for_writer,
    writer,
)
from tests.proxy import NGINX, Nginx, ServeProcess, free_port
from tests.support import http as request

EVENTS_PER_TECH = 100
TAKEOVER_LIMIT_S = 30.0


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    settings = EmulatorSettings(
        user_rate_limit_per_min=100_000, project_rate_limit_per_min=1_000_000
    )
    with EmulatorThread(settings) as emu:
        yield emu


def _records() -> list[dict[str, object]]:
    return [
        {
            "id": f"{tech}-{i}",
            "user": tech,
            "user_name": tech.title(),
            "title": f"{tech} job {i}",
            "start": f"2030-05-{1 + i % 28:02d}T{8 + i % 9:02d}:00",
            "end": f"2030-05-{1 + i % 28:02d}T{9 + i % 9:02d}:00",
        }
        for tech in TECHS
        for i in range(EVENTS_PER_TECH)
    ]


def _load(dsn: str) -> None:
    """Records written straight into the shared store (as ``import`` on a third machine)."""
    store = SQLEventStore(PostgresDatabase(dsn))
    try:
        store.apply(validate_batch([(None, r) for r in _records()], "America/Chicago"))
    finally:
        store.close()


def _push(web: str, event_id: str, title: str) -> None:
    body = {
        "user": "chris",
        "user_name": "Chris",
        "title": title,
        "start": "2030-06-02T09:00",
        "end": "2030-06-02T10:00",
    }
    reply = request(
        "PUT",
        f"{web}/api/v1/events/{event_id}",
        json.dumps(body).encode(),
        {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    assert reply.status == 200, reply.body


def _calendar_text(caldav: str) -> str:
    reply = request("GET", f"{caldav}/chris/ipoint/", headers=basic())
    assert reply.status == 200, reply.status
    return reply.body.decode()


def _live_google_events(emulator: EmulatorThread) -> int:
    return sum(len(v) for v in google_events(emulator).values())


@pytest.mark.slow
def test_two_instances_share_sessions_pushes_and_hand_over_google_writing(
    tmp_path: Path, postgres_server: pg.PostgresServer, emulator: EmulatorThread
) -> None:
    if not os.path.exists(NGINX):
        pytest.skip("nginx is missing (Debian package 'nginx-light'; make test installs it)")
    dsn = postgres_server.fresh_database(f"two_instances_{int(time.time())}")
    port = free_port()
    # Slow Google writes (20 calls a second, batches of 5), so the kill lands inside a pass.
    inis = {
        name: instance_ini(
            tmp_path, name, dsn, emulator, base_url=f"https://127.0.0.1:{port}", rate=1200, batch=5
        )
        for name in ("a", "b")
    }
    a, b = ServeProcess(inis["a"]), ServeProcess(inis["b"])
    with a:
        wait_for_writer(dsn, "a", 30)
        with b:
            nginx = Nginx(
                tmp_path / "nginx",
                web=[a.address("web"), b.address("web")],
                caldav=[a.address("caldav"), b.address("caldav")],
                port=port,
            )
            with nginx:
                cookie = _session_is_shared(a.urls["web"], b.urls["web"], nginx)
                _pushes_show_on_both(a.urls, b.urls)
                # A load of changes, then kill the writer with SIGKILL in the middle of its pass.
                _load(dsn)
                deadline = time.monotonic() + 60
                while _live_google_events(emulator) < 40 and time.monotonic() < deadline:
                    time.sleep(0.05)
                a.proc.send_signal(signal.SIGKILL)
                killed_at = time.monotonic()
                a.proc.wait(10)
                in_google = _live_google_events(emulator)
                total = len(TECHS) * EVENTS_PER_TECH + 2
                assert 0 < in_google < total, f"not mid-pass: {in_google} of {total}"
                wait_for_writer(dsn, "b", TAKEOVER_LIMIT_S + 5)
                takeover = time.monotonic() - killed_at
                print(f"lease takeover after kill -9: {takeover:.1f}s")
                assert takeover <= TAKEOVER_LIMIT_S
                _converges(emulator, total)
                # The admin page names the instance now writing to Google.
                page = request("GET", b.urls["web"] + "/admin", headers={"Cookie": cookie})
                text = page.body.decode()
                assert "Writing to Google:" in text and "<strong>b</strong> (this instance)" in text
                lease = writer(dsn)
                assert lease is not None and lease.holder == "b" and lease.token == 2


def _csrf(html: bytes) -> str:
    found = re.search(rb'name="csrf" value="([^"]+)"', html)
    assert found, html[:300]
    return found.group(1).decode()


def _cookie(headers: dict[str, str]) -> str:
    return headers["Set-Cookie"].split(";", 1)[0]


def _sign_in(nginx: Nginx) -> str:
    """Sign in through nginx (https: the cookie is Secure); the session's Cookie header."""
    code, headers, body = nginx.request("GET", "/admin/login")
    assert code == 200, code
    form = urlencode({"csrf": _csrf(body), "username": "admin", "password": PASSWORD})
    code, headers, _ = nginx.request(
        "POST",
        "/admin/login",
        form.encode(),
        {"Cookie": _cookie(headers), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert code == 303 and headers["Location"] == "/admin", code
    return _cookie(headers)


def _session_is_shared(web_a: str, web_b: str, nginx: Nginx) -> str:
    """Signed in through nginx, the session works on A, on B, and on whichever instance nginx
    picks; a job queued on B runs on A (the writer) and shows on both. Returns the cookie."""
    cookie = _sign_in(nginx)
    pages = {
        web: request("GET", web + "/admin", headers={"Cookie": cookie}) for web in (web_a, web_b)
    }
    assert all(p.status == 200 for p in pages.values()), [p.status for p in pages.values()]
    for _ in range(4):  # round-robin over both instances
        code, _, body = nginx.request("GET", "/admin", headers={"Cookie": cookie})
        assert code == 200 and b"Writing to Google" in body, code
    form = urlencode({"csrf": _csrf(pages[web_b].body)})
    conn = http.client.HTTPConnection(*web_b.removeprefix("http://").split(":"), timeout=30)
    try:
        conn.request(
            "POST",
            "/admin/reconcile",
            form,
            {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        )
        reply = conn.getresponse()
        location = reply.getheader("Location") or ""
        assert reply.status == 303 and "job=" in location, (reply.status, location)
    finally:
        conn.close()
    job = location.split("job=")[1].split("#")[0]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = json.loads(
            request("GET", f"{web_a}/admin/jobs/{job}", headers={"Cookie": cookie}).body
        )
        if status["finished"]:
            break
        time.sleep(0.2)
    assert status["finished"] and status["ok"] and status["runner"] == "a", status
    return cookie


def _pushes_show_on_both(urls_a: dict[str, str], urls_b: dict[str, str]) -> None:
    _push(urls_a["web"], "via-a", "Pushed to A")
    _push(urls_b["web"], "via-b", "Pushed to B")
    for urls in (urls_a, urls_b):
        text = _calendar_text(urls["caldav"])
        assert "SUMMARY:Pushed to A" in text and "SUMMARY:Pushed to B" in text


def _converges(emulator: EmulatorThread, total: int) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if _live_google_events(emulator) >= total:
            break
        time.sleep(0.5)
    time.sleep(2)  # let any stray write show
    summaries = [str(c["calendar"].get("summary", "")) for c in google_calendars(emulator)]
    assert sorted(s for s in summaries if s.startswith("iP ")) == sorted(
        f"iP {t.title()}" for t in TECHS
    ), summaries
    events = google_events(emulator)
    for tech in TECHS:
        got = events[f"iP {tech.title()}"]
        assert not duplicates(got), duplicates(got)
        want = {f"{tech} job {i}" for i in range(EVENTS_PER_TECH)}
        if tech == "chris":
            want |= {"Pushed to A", "Pushed to B"}
        assert set(got) == want, sorted(want ^ set(got))[:10]
