"""Hostile clients on the CalDAV port (issue 10, items 1 to 4), each against a real server.

Every test names what it reproduces; on the commit before the fix each one failed: the front
read and parsed an anonymous REPORT before asking who was calling, long or many hrefs went to
Radicale's quadratic path cleaning, a UTF-16 body carried a DTD past a byte search, a worker
read its own request (eight drippers starved eight workers), failed logins slept in a worker,
and a long recurrence was expanded under the lock every user's REPORT waits on.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bridge.caldav import set_password, start_caldav
from bridge.records import EventRecord
from tests.caldav.conftest import TZ, Server, auth, record, serving, time_range_report

OWN = "/chris/ipoint/"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("hostile")) as running:
        running.apply(record("plain"))
        yield running


@contextmanager
def variant(hostile: Server, delay: str, **caldav: Any) -> Iterator[Server]:
    """A second server on the same store with other ``[caldav]`` settings and Radicale's
    brute-force ``delay``."""
    settings = replace(hostile.settings, caldav=replace(hostile.settings.caldav, **caldav))
    handle = start_caldav(
        settings, store=hostile.store, port=0, radicale_overrides={"auth": {"delay": delay}}
    )
    try:
        yield Server(handle, settings, hostile.store, hostile.folder)
    finally:
        handle.stop()


def raw(server: Server, data: bytes, timeout: float = 10, settle: float = 0) -> bytes:
    """Send ``data`` on a fresh connection and read the answer until the server closes."""
    with socket.create_connection((server.handle.host, server.handle.port), timeout=timeout) as c:
        c.sendall(data)
        if settle:
            time.sleep(settle)
        chunks = []
        while chunk := c.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def head(method: str, path: str, length: int, login: str | None = None, extra: str = "") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: x", f"Content-Length: {length}"]
    if login:
        lines.append("Authorization: " + auth(login)["Authorization"])
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


def multiget(*hrefs: str) -> str:
    links = "".join(f"<D:href>{h}</D:href>" for h in hrefs)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        f"<D:prop><D:getetag/></D:prop>{links}</C:calendar-multiget>"
    )


# ------------------------------------------------------------------ item 1


def test_an_anonymous_report_gets_401_without_sending_its_body(hostile: Server) -> None:
    """Reproduces: the front read an anonymous REPORT's body (up to 1 MiB) and parsed it before
    the gate; a client that announces a body and never sends it held a worker until the
    socket timeout and got 408. Now the 401 comes from the head alone."""
    answer = raw(hostile, head("REPORT", OWN, 900_000), timeout=10)
    assert answer.startswith(b"HTTP/1.0 401"), answer[:200]
    assert b"WWW-Authenticate" in answer


def test_a_wrong_password_gets_radicales_401_and_the_body_is_not_parsed(hostile: Server) -> None:
    body = multiget(*(OWN + "x" * 3000 + f"{i}.ics" for i in range(3)))
    answer = hostile.request("REPORT", OWN, body=body, headers=auth("chris", "wrong"))
    assert answer.status == 401


def test_long_and_many_hrefs_are_refused_before_any_path_work(hostile: Server) -> None:
    """Reproduces: a multiget with a long href went to Radicale's ``sanitize_path``
    (quadratic in path segments: a 1 MB href cost about 27 s of CPU); now 400 naming the
    limit, for the logged-in owner too."""
    long_href = OWN + "a/" * 2000 + "x.ics"
    answer = hostile.request("REPORT", OWN, body=multiget(long_href))
    assert answer.status == 400
    assert b"max_href_bytes" in answer.body
    many = multiget(*(f"{OWN}{i}.ics" for i in range(hostile.settings.caldav.max_hrefs + 1)))
    answer = hostile.request("REPORT", OWN, body=many)
    assert answer.status == 400
    assert b"max_hrefs" in answer.body
    fine = hostile.request("REPORT", OWN, body=multiget(OWN + "plain.ics"))
    assert fine.status == 207


def test_an_xml_body_over_the_limit_gets_413_unread(hostile: Server) -> None:
    """Reproduces: a REPORT over 1 MiB went to Radicale, which reads up to 100 MB."""
    limit = hostile.settings.caldav.max_xml_bytes
    answer = raw(hostile, head("REPORT", OWN, limit + 1, "chris"), timeout=10)
    assert answer.startswith(b"HTTP/1.0 413"), answer[:200]
    assert b"max_xml_bytes" in answer


def test_a_compressed_body_is_refused(hostile: Server) -> None:
    """Radicale would inflate a gzip body without a bound."""
    answer = hostile.request(
        "PROPFIND", "/chris/", body=b"\x1f\x8b", headers={"Content-Encoding": "gzip"}
    )
    assert answer.status == 415


# ------------------------------------------------------------------ item 2

BOMB = (
    '<?xml version="1.0" encoding="utf-16"?>'
    '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
)


@pytest.mark.parametrize("method,path", [("REPORT", OWN), ("PROPFIND", "/chris/")])
def test_a_utf16_dtd_is_refused_on_both_paths(hostile: Server, method: str, path: str) -> None:
    """Reproduces: the front looked for ``<!`` in raw bytes, so a UTF-16 body carried a DTD
    and entity expansion into the front's parser (REPORT) or Radicale's (PROPFIND: a 500)."""
    if method == "REPORT":
        xml = BOMB + multiget(OWN + "&c;.ics").split("?>", 1)[1]
    else:
        xml = BOMB + '<propfind xmlns="DAV:"><prop><displayname>&c;</displayname></prop></propfind>'
    answer = hostile.request(method, path, body=xml.encode("utf-16"), headers={"Depth": "1"})
    assert answer.status == 400, answer.body[:300]
    assert b"DTD" in answer.body


# ------------------------------------------------------------------ item 3


@pytest.fixture
def two_workers(hostile: Server) -> Iterator[Server]:
    with variant(hostile, "2", workers=2, login_workers=1, request_timeout=3.0) as server:
        yield server


def test_slow_senders_hold_no_worker(two_workers: Server) -> None:
    """Reproduces: 8 connections sending a byte every 5 s starved the 8 workers (a GET
    timed out after 45 s). With 2 workers and 4 drippers, a GET is answered at once and the
    drippers get 408 when ``request_timeout`` is over."""
    server = two_workers
    drippers = []
    for _ in range(4):
        conn = socket.create_connection((server.handle.host, server.handle.port), timeout=10)
        conn.sendall(b"REPORT /chris/ipoint/ HTTP/1.1\r\nHost: x\r\n")
        drippers.append(conn)
    try:
        time.sleep(0.3)
        answer = server.request("GET", OWN, headers={"Accept": "text/calendar"})
        assert answer.status == 200
        for conn in drippers:
            conn.sendall(b"X")
        for conn in drippers:
            assert conn.recv(4096).startswith(b"HTTP/1.0 408")
    finally:
        for conn in drippers:
            conn.close()


def test_connections_being_read_are_bounded(hostile: Server) -> None:
    """``max_pending``: past it the longest-waiting connection is closed, and a complete
    request is still answered; ``max_head_bytes``: a longer head gets 431."""
    caldav = replace(hostile.settings.caldav, max_pending=8, max_head_bytes=4096)
    settings = replace(hostile.settings, caldav=caldav)
    handle = start_caldav(settings, store=hostile.store, port=0)
    server = Server(handle, settings, hostile.store, hostile.folder)
    idle = []
    try:
        for _ in range(12):
            idle.append(socket.create_connection((handle.host, handle.port), timeout=10))
            time.sleep(0.02)  # arrival order is eviction order
        time.sleep(0.3)
        closed = []
        for conn in idle:
            conn.settimeout(0.2)
            try:
                closed.append(conn.recv(1) == b"")
            except TimeoutError:
                closed.append(False)
        assert closed[:4] == [True] * 4 and not any(closed[5:]), closed
        answer = raw(server, b"GET /chris/ipoint/ HTTP/1.1\r\nHost: x\r\n" + b"X: y\r\n" * 800)
        assert answer.startswith(b"HTTP/1.0 431"), answer[:100]
        assert b"max_head_bytes" in answer
        assert server.request("GET", OWN).status == 200
    finally:
        for conn in idle:
            conn.close()
        handle.stop()


def test_failed_logins_wait_their_delay_without_holding_a_worker(two_workers: Server) -> None:
    """Reproduces: Radicale's brute-force delay slept in the worker, so two wrong passwords
    held both workers. The delay (``[auth] delay`` = 2 s here) is kept, outside the pool."""
    server = two_workers
    refused: list[tuple[int, float]] = []

    def guess() -> None:
        began = time.monotonic()
        answer = server.request("GET", OWN, headers=auth("chris", "guess"))
        refused.append((answer.status, time.monotonic() - began))

    guesses = [threading.Thread(target=guess) for _ in range(4)]
    for thread in guesses:
        thread.start()
    time.sleep(0.3)
    answer = server.request("REPORT", OWN, body=multiget(OWN + "plain.ics"))
    done_while_guessing = len(refused)
    for thread in guesses:
        thread.join(20)
    assert answer.status == 207
    assert done_while_guessing == 0, "the owner's REPORT waited for the guesses"
    assert [status for status, _ in refused] == [401] * 4
    assert min(took for _, took in refused) >= 1.0  # Radicale's delay × (0.5 + random)


@pytest.fixture
def no_delay(hostile: Server) -> Iterator[Server]:
    with variant(hostile, "0.001", workers=2, login_workers=1) as server:
        yield server


def test_password_guessing_does_not_queue_in_front_of_logged_in_users(
    no_delay: Server,
) -> None:
    """Reproduces: every guess (a bcrypt check) took a worker from the one pool, so a few
    guessers starved it (``hostile_bench --guessers 16``: a technician's p95 went from 11 ms
    to 9.7 s). Credentials that have not logged in lately now wait for their own threads
    (``[caldav] login_workers``). Each guess here is a 1 s bcrypt check; the brute-force delay
    is lowered so that a guess is answered as soon as it is checked."""
    server = no_delay
    set_password(server.settings.data_path(server.settings.caldav.htpasswd), "pat", "pw", rounds=13)
    assert server.request("REPORT", OWN, body=multiget(OWN + "plain.ics")).status == 207
    refused: list[int] = []

    def guess(i: int) -> None:
        refused.append(server.request("GET", "/pat/", headers=auth("pat", f"guess{i}")).status)

    guesses = [threading.Thread(target=guess, args=(i,)) for i in range(4)]
    for thread in guesses:
        thread.start()
    time.sleep(0.3)
    answer = server.request("REPORT", OWN, body=multiget(OWN + "plain.ics"))
    done_while_guessing = len(refused)
    for thread in guesses:
        thread.join(60)
    assert answer.status == 207
    assert done_while_guessing == 0, "the logged-in user's REPORT waited for the guesses"
    assert refused == [401] * 4


# ------------------------------------------------------------------ item 4


def every_second(event_id: str, user: str, begin: datetime) -> EventRecord:
    """An endless SECONDLY series, built past validation: the store may hold one from before
    validation refused such rules, and the CalDAV side must stay bounded anyway."""
    return EventRecord(
        id=event_id,
        user=user,
        title=event_id,
        start=begin,
        end=begin + timedelta(seconds=1),
        timezone=TZ,
        rrule="FREQ=SECONDLY",
    )


def test_a_long_series_is_expanded_outside_the_answer_lock(hostile: Server) -> None:
    """Reproduces: an endless SECONDLY series (here three days of seconds before a week's
    range) was expanded under the front's global answer lock, so another user's week query
    waited for it (5.6 s)."""
    tz = ZoneInfo(TZ)
    begin = datetime(2026, 11, 27, 0, 0, tzinfo=tz)
    caldav = replace(hostile.settings.caldav, max_expansion_steps=50_000_000)
    settings = replace(hostile.settings, caldav=caldav)
    handle = start_caldav(settings, store=hostile.store, port=0)
    server = Server(handle, settings, hostile.store, hostile.folder)
    hostile.apply(every_second("tick", "dana", begin), record("dana-job", user="dana"))
    finished: list[str] = []
    week = time_range_report("20261130T060000Z", "20261207T060000Z", data=False)

    def slow() -> None:
        answer = server.request("REPORT", "/dana/ipoint/", login="dana", body=week)
        finished.append(f"dana {answer.status}")

    try:
        thread = threading.Thread(target=slow)
        thread.start()
        time.sleep(0.3)
        answer = server.request("REPORT", OWN, body=week)
        finished.append(f"chris {answer.status}")
        thread.join(120)
        assert finished == ["chris 207", "dana 207"]
    finally:
        handle.stop()
        hostile.apply(deletes=("tick", "dana-job"))


def test_expansion_is_capped_and_the_series_listed(hostile: Server) -> None:
    """A series that needs more than ``max_expansion_steps`` to reach the range is answered
    as matching (listed, not hidden), in bounded time."""
    tz = ZoneInfo(TZ)
    begin = datetime(2025, 1, 1, 0, 0, tzinfo=tz)
    hostile.apply(every_second("forever", "chris", begin))
    try:
        week = time_range_report("20261130T060000Z", "20261207T060000Z", data=False)
        answer = hostile.request("REPORT", OWN, body=week)
        assert answer.status == 207
        assert b"/chris/ipoint/forever.ics" in answer.body
    finally:
        hostile.apply(deletes=("forever",))


# ------------------------------------------------------------------ found in review


def test_a_unicode_digit_content_length_gets_400(hostile: Server) -> None:
    """Reproduces: ``Content-Length: ²`` (a digit to ``str.isdigit``, not to ``int``) answered
    500 with a traceback in the log, to anyone, without a login."""
    answer = raw(
        hostile, b"PROPFIND /chris/ipoint/ HTTP/1.1\r\nHost: x\r\nContent-Length: \xb2\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.0 400") or answer.startswith(b"HTTP/1.1 400"), answer[:80]


@pytest.fixture
def one_slow_login(hostile: Server) -> Iterator[Server]:
    with variant(hostile, "0.001", workers=2, login_workers=1, max_pending=8) as server:
        yield server


def test_complete_requests_waiting_for_a_login_worker_are_bounded(one_slow_login: Server) -> None:
    """Reproduces: a complete request left the intake's bounds when it was queued for a
    worker, so 60 guesses with 1 MB bodies queued 56 MB (and 56 sockets) behind one bcrypt
    thread. Now the queue has the intake's bounds: past ``max_pending`` a request gets 503."""
    server = one_slow_login
    set_password(server.settings.data_path(server.settings.caldav.htpasswd), "pat", "pw", rounds=12)
    body = b"<x/>" * 1000
    answers: list[bytes] = []

    def guess(i: int) -> None:
        data = head("PROPFIND", "/pat/", len(body), login=None, extra="")
        data = data.replace(
            b"\r\n\r\n",
            b"\r\nAuthorization: " + auth("pat", f"g{i}")["Authorization"].encode() + b"\r\n\r\n",
            1,
        )
        answers.append(raw(server, data + body, timeout=60)[:12])

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    busy = sum(1 for a in answers if a.startswith(b"HTTP/1.0 503"))
    assert len(answers) == 20 and busy >= 20 - 8 - 2, answers
