"""/healthz, /readyz and /metrics on the real web server."""

from __future__ import annotations

import json
import re

from google_emulator.testing import EmulatorThread

from tests.admin.support import BridgeServer, Client, consent

SAMPLE = re.compile(r'^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+Inf]+$')


def test_healthz(client: Client) -> None:
    reply = client.get("/healthz")
    assert reply.status == 200 and reply.text == "ok\n"


def test_readyz_without_google(client: Client) -> None:
    reply = client.get("/readyz")
    assert reply.status == 200
    assert json.loads(reply.text) == {
        "ready": True,
        "checks": {"database": "ok", "google": "disabled"},
    }


def test_readyz_follows_google_authorization(tmp_path, emulator: EmulatorThread) -> None:  # type: ignore[no-untyped-def]
    with BridgeServer(tmp_path, emulator_url=emulator.base_url, extra="enabled = yes\n") as bridge:
        client = Client(bridge.url)
        reply = client.get("/readyz")
        assert reply.status == 503
        assert json.loads(reply.text)["checks"] == {"database": "ok", "google": "never"}
        client.login()
        start = client.post("/admin/google/start", {"csrf": client.csrf()})
        client.get(consent(start.location))
        reply = client.get("/readyz")
        assert reply.status == 200
        assert json.loads(reply.text)["checks"]["google"] == "authorized"


def test_metrics_text_format(client: Client, bridge: BridgeServer) -> None:
    client.get("/readyz")
    reply = client.get("/metrics")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    lines = reply.text.splitlines()
    samples = [line for line in lines if not line.startswith("#")]
    for line in samples:
        assert SAMPLE.match(line), line
    text = reply.text
    assert "# TYPE ipoint_bridge_records_ingested_total counter" in text
    assert 'ipoint_bridge_google_calls_total{outcome="ok"} 0' in text
    assert "ipoint_bridge_mirror_queue_depth 3" in text
    assert "ipoint_bridge_mirror_lag_seconds 1.5" in text
    assert "ipoint_bridge_database_up 1" in text
