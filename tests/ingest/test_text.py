"""Item 5 of issue 10: text iCalendar and XML cannot carry, and text fields without limits.

A FileMaker export puts a vertical tab for a line break inside a field; one such record made
every sync-collection answer of its calendars "not well-formed" (and the Google mirror, which
reads them, stopped for those calendars)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bridge.ical import render_vevent
from bridge.records import EventRecord
from tests.ingest.support import Bridge, running
from tests.support import record


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    with running(tmp_path_factory.mktemp("text")) as b:
        yield b


def event(id: str, **fields: object) -> dict[str, object]:
    body: dict[str, object] = {
        "id": id,
        "user": "chris",
        "attendees": ["dana"],
        "title": f"Job {id}",
        "start": "2026-12-01T09:00",
        "end": "2026-12-01T10:00",
    }
    body.update(fields)
    return body


def test_filemaker_line_breaks_and_controls_keep_every_answer_well_formed(bridge: Bridge) -> None:
    """Reproduces: VT (FileMaker's in-field line break) and NUL in a description or title made
    the sync-collection answer of the owner's and the attendee's calendar not well-formed."""
    answer = bridge.push(
        "vt-1",
        event(
            "vt-1",
            title="Rack\x0bswap\x00 now",
            description="Line one\x0bLine two\r\nLine three\rfour\x1dRepeat\x07bell\x1b",
            location="Dock\x0c2",
        ),
    )
    assert answer.status == 200, answer.body
    for login in ("chris", "dana"):
        seen = bridge.read_all(login)
        assert seen["ipoint-vt-1"] == "Rack\nswap now"
    stored = bridge.caldav.store.get("vt-1")
    assert stored is not None
    record_ = stored.record()
    assert record_.description == "Line one\nLine two\nLine three\nfour\nRepeatbell"
    assert record_.location == "Dock\n2"


def test_lone_surrogate_is_not_a_server_error(bridge: Bridge) -> None:
    """Reproduces: a JSON "\\ud800" in a text field answered 500 (encoding the iCalendar)."""
    body = (
        '{"id": "sur-1", "user": "chris", "title": "A \\ud800 B", "description": "x\\udfff",'
        ' "start": "2026-12-01T09:00", "end": "2026-12-01T10:00"}'
    )
    answer = bridge.push("sur-1", body)
    assert answer.status == 200, answer.body
    assert bridge.read_all("chris")["ipoint-sur-1"] == "A \ufffd B"
    assert (
        bridge.push(
            "sur-2", body.replace('"chris"', '"ch\\ud800ris"').replace("sur-1", "sur-2")
        ).status
        == 422
    )


def test_every_text_field_has_a_length_limit(bridge: Bridge) -> None:
    """Reproduces: a 5 MB title was accepted (the limit covered the other text fields only)."""
    answer = bridge.push("long-1", event("long-1", title="x" * 5_000_000))
    assert answer.status == 422
    problem = answer.json()["problems"][0]
    assert problem["field"] == "title" and "1000" in problem["reason"]
    assert len(answer.body) < 2000  # the answer does not echo the value
    assert bridge.push("long-2", event("long-2", description="y" * 20_001)).status == 422
    assert bridge.push("long-3", event("long-3", user_name="z" * 1001)).status == 422
    assert bridge.caldav.store.get("long-1") is None


@pytest.mark.parametrize("login", [".", "..", ".hidden", "-x", "a/b", "a b", "x" * 65, "é"])
def test_logins_follow_one_grammar(bridge: Bridge, login: str) -> None:
    """Reproduces: "." and ".." were accepted as logins (they are path segments in CalDAV)."""
    answer = bridge.push("login-1", event("login-1", user=login))
    assert answer.status == 422, login
    assert answer.json()["problems"][0]["field"] == "user"
    answer = bridge.push("login-2", event("login-2", attendees=["dana", login]))
    assert answer.status == 422, login
    assert answer.json()["problems"][0]["field"] == "attendees"
    assert {u.login for u in bridge.caldav.store.users()}.isdisjoint({".", ".."})


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_and_infinity_are_not_json(bridge: Bridge, literal: str) -> None:
    """Reproduces: NaN and Infinity (not JSON) were read and stored as the text "nan"/"inf"."""
    body = (
        f'{{"id": "nan-1", "user": "chris", "title": {literal}, '
        '"start": "2026-12-01T09:00", "end": "2026-12-01T10:00"}'
    )
    answer = bridge.push("nan-1", body)
    assert answer.status == 400, answer.body
    assert bridge.caldav.store.get("nan-1") is None


def test_rendering_guards_text_that_bypassed_validation() -> None:
    """The renderer drops what iCalendar TEXT and XML cannot carry, whoever built the record."""
    base = record("guard-1")
    raw = EventRecord(**{**{f: getattr(base, f) for f in base.__slots__}, "title": "a\x0bb\x00c"})
    text = render_vevent(raw, 1, base.start, base.start)  # type: ignore[arg-type]
    assert "SUMMARY:a\\nbc\r\n" in text
