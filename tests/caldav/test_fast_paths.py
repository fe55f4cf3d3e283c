"""The pieces behind the fast paths, checked directly: instance checks of recurring events,
the store's lean listing reads, and that listings, items and tags agree."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from radicale import item as radicale_item
from radicale.item import filter as radicale_filter

from bridge.caldav.timerange import has_instance
from bridge.ical import item_text
from bridge.records import StoredEvent
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


SERIES = [
    record(
        "weekly-dst",
        start="2026-10-20T09:00",
        end="2026-10-20T10:30",
        rrule="FREQ=WEEKLY;COUNT=8",
        exdates=["2026-11-03T09:00"],
    ),
    record(
        "monthly-2-days",
        start="2026-10-31",
        end="2026-11-02",
        rrule="FREQ=MONTHLY;COUNT=30",
        exdates=["2027-03-31"],
    ),
    # Daily at 09:00 across the March change. (An instance spanning the change itself, 01:30 to
    # 03:30, lasts two hours here, RFC 5545 3.8.5.3's "same exact duration"; vobject ends it at
    # 03:30 wall time, one hour later.)
    record("daily-endless", start="2027-03-10T09:00", end="2027-03-10T10:30", rrule="FREQ=DAILY"),
    record("weekly-all-day-endless", start="2026-11-01", end="2026-11-02", rrule="FREQ=WEEKLY"),
    # Not at 01:00 on 2026-11-01: that wall time happens twice, and RFC 5545 3.3.5 (and the
    # store) take the first, while vobject's zones take the second.
    record(
        "zero-length", start="2026-11-02T01:00", end="2026-11-02T01:00", rrule="FREQ=DAILY;COUNT=5"
    ),
]


def _local_days(text: str) -> str:
    # RFC 4791 9.9 reads DATE values in the calendar's zone (its calendar-timezone); Radicale's
    # filter reads them as UTC days. The reference item states the local midnights instead.
    def local(match: re.Match[str]) -> str:
        days = ",".join(f"{d}T000000" for d in match.group(2).split(","))
        return f"{match.group(1)};TZID=America/Chicago:{days}"

    return re.sub(r"(DTSTART|DTEND|EXDATE);VALUE=DATE:([\d,]+)", local, text)


_PARSED: dict[str, radicale_item.Item] = {}


def radicale_says(event: StoredEvent, lo: datetime, hi: datetime) -> bool:
    """Radicale's own time-range filter on the parsed item (vobject + dateutil)."""
    element = ET.fromstring(
        '<C:comp-filter xmlns:C="urn:ietf:params:xml:ns:caldav" name="VCALENDAR">'
        '<C:comp-filter name="VEVENT">'
        f'<C:time-range start="{lo:%Y%m%dT%H%M%SZ}" end="{hi:%Y%m%dT%H%M%SZ}"/>'
        "</C:comp-filter></C:comp-filter>"
    )
    item = _PARSED.get(event.etag)
    if item is None:
        text = _local_days(item_text(event.ics, event.tzid))
        item = _PARSED[event.etag] = radicale_item.Item(collection_path="chris/ipoint", text=text)
    return bool(radicale_filter.comp_match(item, element))


@pytest.fixture(scope="module")
def series_events(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[StoredEvent]]:
    s = SQLEventStore(SQLiteDatabase(tmp_path_factory.mktemp("series") / "bridge.sqlite3"))
    s.apply(SERIES)
    events = [s.get(r.id) for r in SERIES]
    s.close()
    assert all(e is not None for e in events)
    yield [e for e in events if e is not None]


# Instants where mistakes show: the skipped instances, both DST changes, the first instances.
ANCHORS = [
    utc(2026, 11, 3, 15),  # weekly-dst's EXDATE (09:00 CST)
    utc(2026, 10, 27, 14),  # the instance before it (09:00 CDT)
    utc(2026, 11, 1, 6),  # DST ends in Chicago
    utc(2026, 11, 1, 7),
    utc(2027, 3, 14, 8),  # DST begins
    utc(2027, 3, 31, 5),  # monthly-2-days' EXDATE
    utc(2027, 3, 10, 15),  # daily-endless's first instance (09:00 CST)
    utc(2027, 3, 15, 14),  # daily-endless at 09:00 CDT
    utc(2026, 10, 31, 5),  # monthly-2-days' first
    utc(2026, 11, 2, 7),  # zero-length's first
]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    which=st.integers(0, len(SERIES) - 1),
    anchor=st.one_of(
        st.sampled_from(ANCHORS),
        st.integers(0, 60 * 24 * 540).map(lambda m: utc(2026, 10, 1) + timedelta(minutes=m)),
    ),
    shift_minutes=st.integers(-150, 150),
    length_minutes=st.sampled_from([0, 1, 30, 59, 60, 61, 90, 60 * 24, 60 * 24 * 3, 60 * 24 * 10]),
)
def test_instance_check_agrees_with_radicales_filter(
    series_events: list[StoredEvent],
    which: int,
    anchor: datetime,
    shift_minutes: int,
    length_minutes: int,
) -> None:
    event = series_events[which]
    lo = anchor + timedelta(minutes=shift_minutes)
    hi = lo + timedelta(minutes=max(length_minutes, 1))
    assert has_instance(event, lo, hi) is radicale_says(event, lo, hi)


def test_instance_check_agrees_around_every_anchor(series_events: list[StoredEvent]) -> None:
    checked = 0
    for event in series_events:
        for anchor in ANCHORS:
            for shift in (-90, -30, 0, 30, 90):
                for length in (1, 60, 60 * 24):
                    lo = anchor + timedelta(minutes=shift)
                    hi = lo + timedelta(minutes=length)
                    ours = has_instance(event, lo, hi)
                    assert ours is radicale_says(event, lo, hi), (event.id, lo, hi, ours)
                    checked += ours
    assert checked > 50  # the grid hits instances, not only gaps


def test_a_time_range_is_read_once_when_small(
    store: SQLEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The range read that decides the series (before the answer lock) also serves the answer
    when it is small: one index query per week's REPORT, not two (each a database round trip,
    the largest cost PostgreSQL has in a REPORT). A larger range is read again while the answer
    streams, so memory stays bounded, and the answers agree either way."""
    from bridge.caldav import timerange

    store.apply(
        [
            record(f"e{i}", start=f"2026-12-0{1 + i % 5}T09:00", end=f"2026-12-0{1 + i % 5}T10:00")
            for i in range(30)
        ]
        + [
            record(
                "daily",
                start="2026-11-30T08:00",
                end="2026-11-30T08:30",
                rrule="FREQ=DAILY;COUNT=20",
            )
        ]
    )
    lo, hi = utc(2026, 12, 1), utc(2026, 12, 8)
    reads: list[str] = []
    real = store.iter_range

    def counted(calendar: str, a: datetime, b: datetime) -> Iterator[StoredEvent]:
        reads.append(calendar)
        return real(calendar, a, b)

    monkeypatch.setattr(store, "iter_range", counted)

    def ids(read: timerange.RangeRead | None) -> list[str]:
        return sorted(e.id for e, decided in timerange.in_range(store, "chris", lo, hi, read=read))

    small = timerange.read_range(store, "chris", lo, hi)
    assert small.events is not None and small.verdicts == {"daily": True}
    assert len(reads) == 1
    found = ids(small)
    assert len(reads) == 1, "the answer read the range again"
    assert found == sorted([*(f"e{i}" for i in range(30)), "daily"])

    monkeypatch.setattr(timerange, "KEPT_EVENTS", 10)
    large = timerange.read_range(store, "chris", lo, hi)
    assert large.events is None and large.verdicts == {"daily": True}
    assert ids(large) == found and len(reads) == 3
