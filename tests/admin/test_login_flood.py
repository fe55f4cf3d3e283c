"""Parallel password guesses over real HTTP (issue 10, item 7): an attempt is counted before its
bcrypt check, so a burst from one address costs a handful of checks; a flood from many addresses
slows sign-ins down but never locks the real admin, at another address, out."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import pytest

from bridge.config import AdminSettings
from tests.admin.support import PASSWORD, BridgeServer, Client, Reply

GUESSES = 60
DEFAULTS = AdminSettings()


def _in_parallel(calls: list[Callable[[], Reply]]) -> list[int]:
    """Run every call at the same moment (threads released together); their statuses."""
    start = threading.Barrier(len(calls))
    statuses: list[int] = [0] * len(calls)

    def run(i: int) -> None:
        start.wait(timeout=60)
        statuses[i] = calls[i]().status

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def _guess(client: Client, token: str) -> Callable[[], Reply]:
    form = {"csrf": token, "username": "admin", "password": "wrong guess"}
    return lambda: client.post("/admin/login", form)


def _bcrypt_checks(caplog: pytest.LogCaptureFixture) -> int:
    return sum("admin login failed from" in r.getMessage() for r in caplog.records)


def test_parallel_guesses_from_one_address_run_few_checks(
    bridge: BridgeServer, caplog: pytest.LogCaptureFixture
) -> None:
    clients = [Client(bridge.url) for _ in range(GUESSES)]
    tokens = [c.csrf("/admin/login") for c in clients]
    with caplog.at_level(logging.WARNING, logger="bridge.web.admin.login"):
        statuses = _in_parallel([_guess(c, t) for c, t in zip(clients, tokens, strict=True)])
    checks = _bcrypt_checks(caplog)
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(401) == checks
    assert 1 <= checks <= DEFAULTS.login_attempts, checks
    assert statuses.count(429) >= GUESSES - DEFAULTS.login_attempts
    # One at a time afterwards: the address never gets more checks than its attempts.
    with caplog.at_level(logging.WARNING, logger="bridge.web.admin.login"):
        later = [_guess(c, t)().status for c, t in zip(clients[:10], tokens[:10], strict=True)]
    assert _bcrypt_checks(caplog) == DEFAULTS.login_attempts
    assert later[-1] == 429
    assert clients[0].login().status == 429  # even the right password waits now


def test_a_flood_from_many_addresses_slows_down_but_the_admin_gets_in(
    bridge: BridgeServer, caplog: pytest.LogCaptureFixture
) -> None:
    per_address = DEFAULTS.login_attempts
    addresses = [f"127.0.0.{10 + i}" for i in range(GUESSES // per_address)]
    guessers = [Client(bridge.url, source=a) for a in addresses]
    tokens = [c.csrf("/admin/login") for c in guessers]

    def guess_all(client: Client, token: str) -> Callable[[], Reply]:
        def run() -> Reply:
            replies = [_guess(client, token)() for _ in range(per_address)]
            assert {r.status for r in replies} == {401}
            return replies[-1]

        return run

    with caplog.at_level(logging.WARNING, logger="bridge.web.admin.login"):
        statuses = _in_parallel([guess_all(c, t) for c, t in zip(guessers, tokens, strict=True)])
    assert statuses == [401] * len(guessers)
    assert _bcrypt_checks(caplog) == GUESSES  # past login_slowdown_after, all of them counted
    # The owner, at another address, still gets in (slowed down by a bounded pause); a second
    # flood running meanwhile does not change that.
    owner = Client(bridge.url, source="127.0.0.2")
    owner_token = owner.csrf("/admin/login")
    more = [Client(bridge.url, source=f"127.0.0.{100 + i}") for i in range(12)]
    more_tokens = [c.csrf("/admin/login") for c in more]
    owner_form = {"csrf": owner_token, "username": "admin", "password": PASSWORD}
    took: list[float] = []

    def owner_signs_in() -> Reply:
        started = time.monotonic()
        reply = owner.post("/admin/login", owner_form)
        took.append(time.monotonic() - started)
        return reply

    statuses = _in_parallel(
        [*(guess_all(c, t) for c, t in zip(more, more_tokens, strict=True)), owner_signs_in]
    )
    seconds = took[0]
    assert statuses[-1] == 303, statuses[-1]
    assert owner.get("/admin").status == 200
    print(f"owner signed in after {seconds:.1f}s during a flood from {len(more)} addresses")
