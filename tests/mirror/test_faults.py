"""Storms and failures: rate limits, 5xx, lost answers, quotaExceeded, expired and revoked
sign-ins. Each converges with nothing lost and nothing doubled once Google behaves again."""

from __future__ import annotations

from dataclasses import replace

from tests.mirror.support import Shop, record, sign_in


def _faults(shop: Shop, *rules: dict[str, object]) -> None:
    for rule in rules:
        shop.emu.control("POST", "faults", rule)


def _assert_exactly(shop: Shop, login: str, titles: set[str]) -> None:
    events = shop.events(login, cancelled=True)
    live = [e for e in events.values() if e["status"] != "cancelled"]
    assert sorted(e["summary"] for e in live) == sorted(titles)


def test_rate_limit_storm_converges_with_nothing_lost(shop: Shop) -> None:
    _faults(
        shop,
        {"kind": "error_ratio", "status": 403, "reason": "rateLimitExceeded", "ratio": 0.3},
        {"kind": "error_ratio", "status": 429, "ratio": 0.2},
    )
    shop.put(*(record(f"r{i}", title=f"T{i}") for i in range(120)))
    health = shop.sync()
    assert health.converged, health.reasons
    shop.emu.control("DELETE", "faults")
    _assert_exactly(shop, "chris", {f"T{i}" for i in range(120)})
    counts = shop.mirror().counter.snapshot()
    assert counts.get("rate_limited", 0) > 0
    assert counts.get("abandoned", 0) == 0, "no rejected call may be left unretried"


def test_server_error_storm_and_lost_answers_converge_without_duplicates(shop: Shop) -> None:
    _faults(
        shop,
        {"kind": "error_ratio", "status": 503, "ratio": 0.25},
        {"kind": "lose_response", "mode": "503", "count": 8, "methods": ["calendar.events.insert"]},
        {"kind": "lose_response", "mode": "drop", "count": 2, "methods": ["write"]},
    )
    shop.put(*(record(f"s{i}", title=f"S{i}") for i in range(80)))
    health = shop.sync()
    assert health.converged, health.reasons
    shop.emu.control("DELETE", "faults")
    _assert_exactly(shop, "chris", {f"S{i}" for i in range(80)})
    shop.put(record("s1", title="S1 changed"))
    shop.delete("s2")
    assert shop.sync().converged
    _assert_exactly(shop, "chris", {f"S{i}" for i in range(80) if i not in (1, 2)} | {"S1 changed"})


def test_quota_exceeded_pauses_writes_and_keeps_the_queue(shop: Shop) -> None:
    shop.put(record("a"))
    assert shop.sync().converged
    shop.emu.control("POST", "accounts/demo@example.com/quota_exceeded", {"on": True})
    shop.put(*(record(f"q{i}") for i in range(120)))
    before = shop.calls()
    health = shop.sync()
    assert not health.converged
    assert any("usage limits" in r for r in health.reasons)
    in_flight = 50 * shop.mirror().tuning.concurrency
    assert shop.calls() - before <= in_flight, "the batches in flight at most, then writes stop"
    m = shop.mirror()
    assert sum(p.pending for p in m.status.pending().values()) == 120
    # Still paused: nothing is sent.
    before = shop.calls()
    assert not shop.sync().converged
    assert shop.calls() == before
    # The pause ends (the emulator's limit is lifted too): the queue drains.
    shop.emu.control("POST", "accounts/demo@example.com/quota_exceeded", {"on": False})
    m.status.set_account(replace(m.status.account(), paused_until=0.0))
    health = shop.sync()
    assert health.converged, health.reasons
    assert len(shop.events("chris")) == 121


def test_expired_access_token_is_refreshed(shop: Shop) -> None:
    shop.put(record("a"))
    assert shop.sync().converged
    shop.emu.control("POST", "oauth/expire_access_tokens", {})
    shop.put(record("b"))
    health = shop.sync()
    assert health.converged, health.reasons
    assert len(shop.events("chris")) == 2


def test_revoked_sign_in_stops_writes_keeps_queue_and_recovers(shop: Shop) -> None:
    shop.put(record("a"))
    assert shop.sync().converged
    shop.emu.control("POST", "oauth/revoke_refresh_tokens", {})
    shop.emu.control("POST", "oauth/expire_access_tokens", {})
    shop.put(record("b"), record("c"))
    health = shop.sync()
    assert not health.converged
    text = " ".join(health.reasons)
    assert "invalid_grant" in text and "sign in again" in text
    m = shop.mirror()
    assert m.status.account().auth_state == "not_authorized"
    assert sum(p.pending for p in m.status.pending().values()) == 2
    before = shop.calls()
    assert not shop.sync().converged
    assert shop.calls() == before, "no calls while not authorized"
    sign_in(shop.emu, shop.settings)
    health = shop.sync()
    assert health.converged, health.reasons
    assert m.status.account().auth_state == "ok"
    assert len(shop.events("chris")) == 3


def test_missing_sign_in_is_reported(shop: Shop) -> None:
    from bridge.google.credentials import credentials_path

    credentials_path(shop.settings).unlink()
    shop.put(record("a"))
    health = shop.sync()
    assert not health.converged
    assert any("not signed in" in r for r in health.reasons)
