"""The pieces behind the fast paths, checked directly: instance checks of recurring events,
the store's lean listing reads, and that listings, items and tags agree."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.caldav.timerange import has_instance
from bridge.store.db import SQLiteDatabase
from bridge.store.sql import SQLEventStore
from tests.caldav.conftest import Server, record


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLEventStore]:
    s = SQLEventStore(SQLiteDatabase(tmp_path / "bridge.sqlite3"))
    yield s
    s.close()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_all_day_series_instances_in_local_days(store: SQLEventStore) -> None:
    store.apply(
        [
            record(
                "yearly",
                start="2026-12-24",
                end="2026-12-25",
                rrule="FREQ=YEARLY",
                exdates=["2027-12-24"],
            )
        ]
    )
    event = store.get("yearly")
    assert event is not None
    # Dec 24-25 2028 in Chicago is 06:00Z Dec 24 to 06:00Z Dec 26.
    assert has_instance(event, utc(2028, 12, 26, 5, 0), utc(2028, 12, 26, 5, 30)) is True
    assert has_instance(event, utc(2028, 12, 26, 6, 0), utc(2028, 12, 27)) is False
    assert has_instance(event, utc(2027, 12, 24, 12), utc(2027, 12, 25, 12)) is False  # EXDATE


def test_timed_daily_series_keeps_local_time_across_dst(store: SQLEventStore) -> None:
    store.apply(
        [
            record(
                "daily",
                start="2026-10-30T09:00",
                end="2026-10-30T09:30",
                rrule="FREQ=DAILY;COUNT=5",
            )
        ]
    )
    event = store.get("daily")
    assert event is not None
    assert has_instance(event, utc(2026, 10, 31, 14), utc(2026, 10, 31, 14, 1)) is True  # CDT
    assert has_instance(event, utc(2026, 11, 2, 15), utc(2026, 11, 2, 15, 1)) is True  # CST
    assert has_instance(event, utc(2026, 11, 2, 14), utc(2026, 11, 2, 14, 59)) is False
    assert has_instance(event, utc(2026, 11, 4, 15), utc(2026, 11, 4, 16)) is False  # COUNT


def test_single_event_is_left_to_the_index(store: SQLEventStore) -> None:
    store.apply([record("single")])
    event = store.get("single")
    assert event is not None and has_instance(event, utc(2026, 1, 1), utc(2027, 1, 1)) is None


def test_lean_reads_match_full_reads(store: SQLEventStore) -> None:
    store.apply([record(f"lean-{i}") for i in range(1200)] + [record("lean-x", user="dana")])
    store.apply([], ["lean-7"])
    full = {e.id: e for e in store.iter_calendar("chris")}
    stamps = list(store.stamps("chris"))
    assert [s[0] for s in stamps] == sorted(full)
    assert all(full[i].etag == etag and full[i].updated == at for i, etag, at in stamps)
    some = ["lean-1", "lean-7", "lean-x", "nope", "lean-1100"]
    assert {s[0] for s in store.stamps("chris", some)} == {"lean-1", "lean-1100"}
    blocks = store.blocks("chris", some)
    assert set(blocks) == {"lean-1", "lean-1100"}
    assert blocks["lean-1"] == (full["lean-1"].ics, "America/Chicago")
    assert store.calendar_tzids("chris") == ["America/Chicago"]


def test_listing_item_and_tags_agree(server: Server) -> None:
    server.apply(*(record(f"agree-{i}", user="dana") for i in range(3)))
    body = (
        '<?xml version="1.0"?><propfind xmlns="DAV:"><prop><getetag/><sync-token/></prop>'
        "</propfind>"
    )
    listing = server.request(
        "PROPFIND", "/dana/ipoint/", login="dana", body=body, headers={"Depth": "1"}
    ).body.decode()
    etags = dict(
        re.findall(r"<href>/dana/ipoint/([^<]+)</href>.*?<getetag>([^<]+)</getetag>", listing, re.S)
    )
    assert {"agree-0.ics", "agree-1.ics", "agree-2.ics"} <= set(etags)
    for href, etag in etags.items():
        got = server.request("GET", f"/dana/ipoint/{href}", login="dana")
        assert got.headers["ETag"] == etag.replace("&quot;", '"')
    token = re.search(r"<sync-token>([^<]+)</sync-token>", listing)
    assert token is not None and token.group(1).startswith("http://ipoint.invalid/ns/sync/")
