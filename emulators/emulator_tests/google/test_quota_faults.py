"""Per-minute quotas, the quotaExceeded state, injected faults, counters and the request log."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from google_emulator.settings import EmulatorSettings
from google_emulator.testing import EmulatorThread

from emulator_tests.google.helpers import Api, timed


def test_per_user_rate_limit_is_403_rate_limit_exceeded_and_slides() -> None:
    with EmulatorThread(EmulatorSettings(user_rate_limit_per_min=5)) as emu:
        api = Api(emu, "demo@example.com")
        other = Api(emu, "tech@example.com")
        statuses = [api.call("GET", api.events()).status for _ in range(6)]
        assert statuses == [200] * 5 + [403]
        refused = api.call("GET", api.events())
        assert refused.reason == "rateLimitExceeded"
        assert refused.body["error"]["errors"][0]["domain"] == "usageLimits"
        assert other.call("GET", other.events()).status == 200
        emu.control("POST", "clock", {"advance_seconds": 61})
        assert api.call("GET", api.events()).status == 200


def test_rate_limit_can_answer_429_and_patch_costs_three_units() -> None:
    with EmulatorThread(EmulatorSettings(user_rate_limit_per_min=4, rate_limit_status=429)) as emu:
        api = Api(emu, "demo@example.com")
        api.insert(timed("pch0000001"))
        assert api.call("PATCH", api.events() + "/pch0000001", {"summary": "x"}).status == 200
        reply = api.call("GET", api.events())
        assert reply.status == 429
        assert reply.reason == "rateLimitExceeded"
        assert emu.control("GET", "quota")["users"]["demo@example.com"] == 4


def test_project_limit_spans_users() -> None:
    with EmulatorThread(EmulatorSettings(project_rate_limit_per_min=3)) as emu:
        a, b = Api(emu, "demo@example.com"), Api(emu, "tech@example.com")
        assert [a.call("GET", a.events()).status for _ in range(2)] == [200, 200]
        assert b.call("GET", b.events()).status == 200
        assert b.call("GET", b.events()).status == 403


def test_quota_exceeded_blocks_writes_not_reads(emu: EmulatorThread, api: Api) -> None:
    emu.control("POST", "accounts/demo@example.com/quota_exceeded", {"on": True})
    refused = api.insert(timed())
    assert refused.status == 403
    assert refused.reason == "quotaExceeded"
    assert refused.body["error"]["message"] == "Calendar usage limits exceeded."
    assert api.call("GET", api.events()).status == 200
    emu.control("POST", "accounts/demo@example.com/quota_exceeded", {"on": False})
    assert api.insert(timed()).status == 200


def test_next_n_errors_for_one_user_and_methods(emu: EmulatorThread, api: Api) -> None:
    other = Api(emu, "tech@example.com")
    emu.control(
        "POST",
        "faults",
        {
            "kind": "error",
            "status": 503,
            "count": 2,
            "user": "demo@example.com",
            "methods": ["write"],
        },
    )
    assert api.call("GET", api.events()).status == 200
    assert [api.insert(timed()).status for _ in range(3)] == [503, 503, 200]
    assert other.insert(timed()).status == 200
    emu.control(
        "POST",
        "faults",
        {"kind": "error", "status": 403, "reason": "userRateLimitExceeded", "count": 1},
    )
    limited = api.call("GET", api.events())
    assert (limited.status, limited.reason) == (403, "userRateLimitExceeded")
    emu.control(
        "POST",
        "faults",
        {"kind": "error", "status": 429, "count": 1, "methods": ["calendar.events.list"]},
    )
    assert api.insert(timed()).status == 200
    assert api.call("GET", api.events()).status == 429


def test_error_ratio_is_seeded_and_latency_applies(emu: EmulatorThread, api: Api) -> None:
    emu.control("POST", "faults", {"kind": "error_ratio", "status": 500, "ratio": 0.5})
    statuses = [api.call("GET", api.events()).status for _ in range(40)]
    assert 5 < statuses.count(500) < 35
    assert set(statuses) == {200, 500}
    emu.control("DELETE", "faults")
    emu.control("POST", "faults", {"kind": "latency", "latency_ms": 150})
    import time

    started = time.monotonic()
    api.call("GET", api.events())
    assert time.monotonic() - started >= 0.15


def test_lost_response_503_still_applies_the_write(emu: EmulatorThread, api: Api) -> None:
    emu.control("POST", "faults", {"kind": "lose_response", "mode": "503", "count": 1})
    lost = api.insert(timed("lst0000001"))
    assert lost.status == 503
    again = api.insert(timed("lst0000001"))
    assert again.reason == "duplicate"


def test_lost_response_drop_closes_the_connection(emu: EmulatorThread, api: Api) -> None:
    emu.control("POST", "faults", {"kind": "lose_response", "mode": "drop", "count": 1})
    parts = urlsplit(emu.base_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    body = '{"id": "drp0000001", "start": {"date": "2030-01-01"}, "end": {"date": "2030-01-02"}}'
    conn.request(
        "POST",
        "/calendar/v3/calendars/primary/events",
        body=body,
        headers={"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"},
    )
    try:
        conn.getresponse()
        dropped = False
    except (http.client.RemoteDisconnected, ConnectionError):
        dropped = True
    finally:
        conn.close()
    assert dropped
    assert api.call("GET", api.events() + "/drp0000001").status == 200


def test_counters_log_and_reset(emu: EmulatorThread, api: Api) -> None:
    api.insert(timed("cnt0000001"))
    api.insert(timed("cnt0000001"))
    api.call("GET", api.events())
    counters = emu.control("GET", "counters")
    user = counters["users"]["demo@example.com"]
    assert user["calls"] == 3
    assert user["by_method"]["calendar.events.insert"] == {"200": 1, "409": 1}
    log = emu.control("GET", "requests?limit=2")["requests"]
    assert [entry["method"] for entry in log] == ["calendar.events.insert", "calendar.events.list"]
    assert log[0]["status"] == 409
    emu.control("DELETE", "counters")
    assert emu.control("GET", "counters")["total_calls"] == 0
    emu.control("POST", "reset")
    snapshot = emu.control("GET", "snapshot")
    assert [c["calendar"]["id"] for c in snapshot["calendars"]] == ["demo@example.com"]
    assert snapshot["calendars"][0]["events"] == []


def test_token_endpoint_faults_only_when_named(emu: EmulatorThread, api: Api) -> None:
    from urllib.parse import urlencode

    from emulator_tests.google.helpers import http

    emu.control("POST", "faults", {"kind": "error", "status": 503, "count": 1})
    form = {
        "grant_type": "refresh_token",
        "refresh_token": api.info["refresh_token"],
        "client_id": api.info["client_id"],
        "client_secret": api.info["client_secret"],
    }

    def refresh() -> int:
        return http(
            "POST",
            emu.base_url + "/token",
            raw=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ).status

    assert refresh() == 200
    emu.control("DELETE", "faults")
    emu.control(
        "POST", "faults", {"kind": "error", "status": 503, "count": 1, "methods": ["oauth2.token"]}
    )
    assert [refresh(), refresh()] == [503, 200]


def test_lost_batch_response_applies_every_part(emu: EmulatorThread, api: Api) -> None:
    emu.control("POST", "faults", {"kind": "lose_response", "mode": "drop", "count": 1})
    parts = urlsplit(emu.base_url)
    body = '{"start": {"date": "2030-01-01"}, "end": {"date": "2030-01-02"}}'
    inner = (
        "POST /calendar/v3/calendars/primary/events HTTP/1.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}"
    )
    payload = (
        "".join(
            f"--b\r\nContent-Type: application/http\r\nContent-ID: <{n}>\r\n\r\n{inner}\r\n"
            for n in range(2)
        )
        + "--b--\r\n"
    )
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    conn.request(
        "POST",
        "/batch/calendar/v3",
        body=payload,
        headers={
            "Authorization": f"Bearer {api.token}",
            "Content-Type": "multipart/mixed; boundary=b",
        },
    )
    try:
        conn.getresponse()
        dropped = False
    except (http.client.RemoteDisconnected, ConnectionError):
        dropped = True
    finally:
        conn.close()
    assert dropped
    assert len(api.call("GET", api.events()).body["items"]) == 2
