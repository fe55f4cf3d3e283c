"""Item 6 of issue 10: every bad push gets a 4xx naming what is wrong, never a 5xx, and
changes nothing; a record cannot create thousands of users."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.ingest.support import Bridge, running


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    with running(tmp_path_factory.mktemp("edges")) as b:
        yield b


def event(**fields: object) -> dict[str, object]:
    body: dict[str, object] = {
        "id": "edge-1",
        "user": "chris",
        "title": "Job",
        "start": "2026-12-01T09:00",
        "end": "2026-12-01T10:00",
    }
    body.update(fields)
    return body


DEEP = "[" * 100_000 + "]" * 100_000
CASES: list[tuple[str, str | dict[str, object], int, str | None]] = [
    # (name, body, status, field named)
    ("deep nesting", '{"id": "edge-1", "title": ' + DEEP + "}", 400, None),
    (
        "nesting past the limit",
        event(title=[[[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]]),
        400,
        None,
    ),
    ("huge integer", '{"id": "edge-1", "title": 1' + "0" * 5000 + "}", 400, None),
    ("huge integer as text field", event(title=10**30), 400, None),
    ("year 1", event(start="0001-01-01T00:00", end="0001-01-01T01:00"), 422, "start"),
    ("year 9999", event(start="9999-12-31T23:00", end="9999-12-31T23:59"), 422, "start"),
    ("all-day end at the last day", event(start="9999-12-31", end="9999-12-31"), 422, "start"),
    (
        "offset past the end",
        event(start="9999-12-31T23:00-12:00", end="9999-12-31T23:30-12:00"),
        422,
        "start",
    ),
    (
        "year 1 with offset",
        event(start="0001-01-01T00:00+14:00", end="0001-01-01T01:00+14:00"),
        422,
        "start",
    ),
    ("modified at the edge", event(modified="12/31/9999 23:59:59"), 422, "modified"),
    ("exdate at the edge", event(rrule="FREQ=DAILY", exdates=["0001-01-01"]), 422, "exdates"),
    ("until at the edge", event(rrule="FREQ=DAILY;UNTIL=99991231T235959"), 422, "rrule"),
    ("overlong time zone", event(timezone="America/" + "x" * 100_000), 422, "timezone"),
    ("time zone path", event(timezone="../../../etc/passwd"), 422, "timezone"),
    ("time zone with NUL", event(timezone="America/Chi\x00cago"), 422, "timezone"),
    ("overlong start", event(start="2026-12-01T09:00" + " " * 100_000), 422, "start"),
    ("not an object", "[1, 2]", 422, None),
    ("not UTF-8", "", 400, None),
]


@pytest.mark.parametrize(("name", "body", "status", "field"), CASES, ids=[c[0] for c in CASES])
def test_bad_push_is_4xx_with_the_reason_and_changes_nothing(
    bridge: Bridge, name: str, body: str | dict[str, object], status: int, field: str | None
) -> None:
    """Reproduces: deep nesting, huge integers, dates at the edges of the calendar (and
    overflow when adding the end or a zone offset) and an overlong time zone answered 500."""
    sent: bytes | str | dict[str, object] = b"\xff\xfe{" if name == "not UTF-8" else body
    answer = bridge.push("edge-1", sent)
    assert answer.status == status, (name, answer.status, answer.body[:300])
    reply = answer.json()
    assert reply["error"]
    if field is not None:
        assert reply["problems"][0]["field"] == field, reply
    assert len(answer.body) < 4000
    assert bridge.caldav.store.get("edge-1") is None
    # The same inside a batch: refused whole.
    wrapped = body if isinstance(body, dict) else None
    if wrapped is not None:
        answer = bridge.batch([event(id="edge-ok"), wrapped])
        assert answer.status == status
        assert bridge.caldav.store.get("edge-ok") is None


def test_attendee_flood_is_refused_before_any_login_is_created(bridge: Bridge) -> None:
    """Reproduces: one record with 20,000 attendee logins created 20,000 users, principals
    and mirror targets."""
    before = {u.login for u in bridge.caldav.store.users()}
    logins = [f"tech{i}" for i in range(20_000)]
    for attendees in (logins, ",".join(logins)):
        answer = bridge.push("flood-1", event(id="flood-1", attendees=attendees))
        assert answer.status == 422, answer.body[:300]
        problem = answer.json()["problems"][0]
        assert problem["field"] == "attendees" and "max_attendees" in problem["reason"]
    assert {u.login for u in bridge.caldav.store.users()} == before
    fifty = logins[:50]
    assert bridge.push("flood-2", event(id="flood-2", attendees=fifty)).status == 200
    assert bridge.caldav.store.get("flood-2") is not None


def test_the_limits_come_from_the_config(tmp_path_factory: pytest.TempPathFactory) -> None:
    extra = "[ingest]\nmax_attendees = 2\nmax_title_chars = 10\nmax_json_depth = 4\n"
    with running(tmp_path_factory.mktemp("limits"), extra) as b:
        assert b.push("l-1", event(id="l-1", attendees=["a1", "a2", "a3"])).status == 422
        assert b.push("l-2", event(id="l-2", title="eleven char")).status == 422
        assert (
            b.push("l-3", event(id="l-3", title="ten chars!", attendees=["a1", "a2"])).status == 200
        )
        assert b.batch({"events": [event(id="l-4", attendees=[["x"]])]}).status == 400
        assert b.batch(json.loads(json.dumps([event(id="l-5")]))).status == 200
