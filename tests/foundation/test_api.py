"""The push API over real HTTP on a loopback port, against a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge import config
from bridge.web.app import create_app
from tests.support import ServerThread, http, write_config

TOKEN = "t0ken-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    path = write_config(
        tmp_path, f"[web]\ningest_token = {TOKEN}\nmax_body_bytes = 65536\n[caldav]\nenabled = no\n"
    )
    with ServerThread(create_app(config.load(path), mirror=False)) as srv:
        yield srv.url


def event(id: str, **fields: object) -> dict[str, object]:
    body: dict[str, object] = {
        "id": id,
        "user": "chris",
        "title": f"Job {id}",
        "start": "2026-12-01T09:00",
        "end": "2026-12-01T10:00",
    }
    body.update(fields)
    return body


def test_put_get_delete(server: str) -> None:
    url = f"{server}/api/v1/events/wo-1"
    answer = http("PUT", url, event("wo-1"), AUTH)
    assert answer.status == 200 and answer.json()["results"][0]["result"] == "created"
    got = http("GET", url, headers=AUTH).json()
    assert got["record"]["start"] == "2026-12-01T09:00:00-06:00" and got["revision"] == 1
    assert http("PUT", url, event("wo-1"), AUTH).json()["results"][0]["result"] == "unchanged"
    assert http("DELETE", url, headers=AUTH).json()["results"][0]["result"] == "deleted"
    assert http("GET", url, headers=AUTH).status == 404


def test_id_may_come_from_path_only_and_must_match(server: str) -> None:
    body = event("x")
    del body["id"]
    assert http("PUT", f"{server}/api/v1/events/wo-2", body, AUTH).status == 200
    answer = http("PUT", f"{server}/api/v1/events/wo-3", event("other"), AUTH)
    assert answer.status == 422
    assert answer.json()["problems"][0]["field"] == "id"


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic dXNlcjpwYXNz", f"bearer{TOKEN}"])
def test_missing_or_wrong_token_is_401_and_changes_nothing(server: str, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    answer = http("PUT", f"{server}/api/v1/events/wo-1", event("wo-1"), headers)
    assert answer.status == 401 and "Bearer" in answer.headers.get("WWW-Authenticate", "")
    assert http("GET", f"{server}/api/v1/events/wo-1", headers=AUTH).status == 404


def test_batch_is_all_or_nothing_and_lists_every_problem(server: str) -> None:
    bad = [event("a"), event("b", start="2026-13-40"), event("c", title=""), event("a")]
    answer = http("POST", f"{server}/api/v1/events", bad, AUTH)
    assert answer.status == 422
    found = {(p["id"], p["field"]) for p in answer.json()["problems"]}
    assert {("b", "start"), ("c", "title"), ("a", "id")} <= found
    assert http("GET", f"{server}/api/v1/events/a", headers=AUTH).status == 404
    good = {"events": [event("a"), event("b")], "deletes": []}
    answer = http("POST", f"{server}/api/v1/events", good, AUTH)
    assert answer.status == 200 and answer.json()["summary"]["created"] == 2
    answer = http(
        "POST", f"{server}/api/v1/events", {"events": [event("c")], "deletes": ["a"]}, AUTH
    )
    assert answer.json()["summary"] == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "stale": 0,
        "deleted": 1,
        "absent": 0,
    }


def test_stale_push_is_409_and_ignored(server: str) -> None:
    url = f"{server}/api/v1/events/wo-1"
    http("PUT", url, event("wo-1", modified="11/20/2026 10:00:00"), AUTH)
    answer = http("PUT", url, event("wo-1", title="old", modified="11/19/2026 10:00:00"), AUTH)
    assert answer.status == 409 and answer.json()["results"][0]["result"] == "stale"
    assert http("GET", url, headers=AUTH).json()["record"]["title"] == "Job wo-1"


def test_bad_json_and_shapes_are_400(server: str) -> None:
    assert http("PUT", f"{server}/api/v1/events/wo-1", b"{nope", AUTH).status == 400
    assert http("POST", f"{server}/api/v1/events", {"records": []}, AUTH).status == 400
    assert http("PUT", f"{server}/api/v1/events/wo-1", [1, 2], AUTH).status == 422


def test_oversized_body_is_413(server: str) -> None:
    big = [event(f"e{i}", description="x" * 1000) for i in range(100)]
    answer = http("POST", f"{server}/api/v1/events", big, AUTH)
    assert answer.status == 413
    assert http("GET", f"{server}/api/v1/events/e1", headers=AUTH).status == 404
