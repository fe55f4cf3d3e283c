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
        "parts": {
            "store": {"ok": True, "state": "ok", "required": True},
            "google": {"ok": True, "state": "disabled", "required": True},
        },
    }


def test_readyz_follows_google_authorization(tmp_path, emulator: EmulatorThread) -> None:  # type: ignore[no-untyped-def]
    with BridgeServer(tmp_path, emulator_url=emulator.base_url, extra="enabled = yes\n") as bridge:
        client = Client(bridge.url)
        reply = client.get("/readyz")
        assert reply.status == 503
        parts = json.loads(reply.text)["parts"]
        assert parts["store"]["ok"] and parts["google"] == {
            "ok": False,
            "state": "never",
            "required": True,
        }
        client.login()
        start = client.post("/admin/google/start", {"csrf": client.csrf()})
        client.get(consent(start.location))
        reply = client.get("/readyz")
        assert reply.status == 200
        assert json.loads(reply.text)["parts"]["google"]["state"] == "authorized"


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


def test_readyz_names_every_part_and_only_required_ones_fail_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from aiohttp import web

    from bridge.store import EventStore
    from bridge.web.readiness import Verdict, readiness

    state = {"filemaker": False}

    def add_parts(app: web.Application, store: EventStore) -> None:
        async def filemaker() -> Verdict:
            return Verdict(state["filemaker"], "ok" if state["filemaker"] else "login refused")

        async def informational() -> Verdict:
            return Verdict(False, "held by another instance")

        readiness(app).add("filemaker:shop", filemaker)
        readiness(app).add("google_writer", informational, required=False)

    with BridgeServer(tmp_path, prepare=add_parts) as bridge:
        client = Client(bridge.url)
        reply = client.get("/readyz")
        body = json.loads(reply.text)
        assert reply.status == 503 and body["ready"] is False
        assert body["parts"]["filemaker:shop"] == {
            "ok": False,
            "state": "login refused",
            "required": True,
        }
        assert body["parts"]["store"]["ok"] and body["parts"]["google"]["ok"]
        state["filemaker"] = True
        reply = client.get("/readyz")
        body = json.loads(reply.text)
        assert reply.status == 200 and body["ready"] is True
        assert body["parts"]["google_writer"]["ok"] is False  # named, not required


def test_readyz_of_serve_checks_its_caldav_server(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.proxy import ServeProcess
    from tests.support import http

    ini = tmp_path / "bridge.ini"
    ini.write_text(
        "[bridge]\ntimezone = America/Chicago\ndata_dir = data\n"
        "[web]\nport = 0\n[caldav]\nport = 0\n"
    )
    with ServeProcess(ini) as serve:
        reply = http("GET", serve.urls["web"] + "/readyz")
        body = json.loads(reply.body)
        assert reply.status == 200, body
        assert body["parts"]["caldav"]["ok"] is True
        assert body["parts"]["caldav"]["state"].startswith("HTTP ")
        assert set(body["parts"]) == {"store", "caldav", "google"}
