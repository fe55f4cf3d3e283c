"""Item 4 of issue 10: recurrence rules are bounded, and a series ended by UNTIL is indexed as
ended. Validation, the store's index and CalDAV time ranges read rules through one module
(``bridge.recurrence``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from bridge.caldav.timerange import has_instance
from bridge.config import IngestSettings, load
from bridge.runtime import open_store
from bridge.store import EventStore
from bridge.validate import validate_record
from bridge.web.app import create_app
from bridge.web.feeds import feed_url
from tests.support import ServerThread, http, record, write_config

TZ = "America/Chicago"


def rrule_problem(rule: str, **fields: object) -> str | None:
    raw: dict[str, object] = {
        "id": "r-1",
        "user": "chris",
        "title": "Service",
        "start": "2026-12-01T09:00",
        "end": "2026-12-01T10:00",
        "rrule": rule,
    }
    raw.update(fields)
    found, problems = validate_record(raw, TZ, limits=IngestSettings(max_instances=500))
    reasons = [p.reason for p in problems if p.field == "rrule"]
    assert (found is None) == bool(problems)
    return reasons[0] if reasons else None


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    s = open_store(load(write_config(tmp_path)))
    yield s
    s.close()


def test_secondly_series_with_a_huge_count_is_refused_without_expanding_it() -> None:
    """Reproduces: FREQ=SECONDLY;COUNT=100000000 was accepted and its index span expanded all
    10^8 instances inside the write transaction (4 minutes)."""
    began = time.monotonic()
    for rule in ("FREQ=SECONDLY;COUNT=100000000", "FREQ=MINUTELY", "FREQ=HOURLY;COUNT=5"):
        reason = rrule_problem(rule)
        assert reason is not None and "not accepted" in reason, rule
    assert "from 1 to 500" in (rrule_problem("FREQ=DAILY;COUNT=100000000") or "")
    assert "from 1 to 1000" in (rrule_problem("FREQ=DAILY;INTERVAL=99999999999") or "")
    for part in ("BYHOUR=1,2", "BYMINUTE=5", "BYSECOND=1", "BYYEARDAY=1", "BYWEEKNO=1"):
        assert "not accepted" in (rrule_problem(f"FREQ=YEARLY;{part}") or ""), part
    assert time.monotonic() - began < 5  # a guard against a hang, not a speed target


def test_rules_that_never_produce_are_refused_in_bounded_time() -> None:
    """Reproduces: dateutil searches up to year 9999 for an instance of a rule that matches no
    day; FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30 cost 4 s on every expansion."""
    for rule in (
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=10",
        "FREQ=DAILY;INTERVAL=7;BYDAY=TU",  # 2026-12-01 is a Tuesday: every 7th day is one
    ):
        if rule.endswith("BYDAY=TU"):
            assert rrule_problem(rule) is None
            assert "no instance" in (rrule_problem(rule, start="2026-11-30T09:00") or "")
            continue
        assert "no instance" in (rrule_problem(rule) or ""), rule
    assert "before the first" in (rrule_problem("FREQ=WEEKLY;UNTIL=20261101T000000Z") or "")
    # Rare but real: 29 February on a Monday (2044 is the next).
    assert rrule_problem("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO") is None


def test_series_ended_by_utc_until_is_indexed_as_ended(store: EventStore) -> None:
    """Reproduces: validation writes UNTIL in UTC, the index paired it with a naive DTSTART,
    dateutil raised and the series was indexed as endless, so it stayed in every window."""
    weekly = record(
        "w-until",
        start="2026-01-05T09:00",
        end="2026-01-05T10:00",
        rrule="FREQ=WEEKLY;UNTIL=20260302",
    )
    assert weekly.rrule == "FREQ=WEEKLY;UNTIL=20260303T055959Z"
    daily_all_day = record(
        "d-until", start="2026-01-05", end="2026-01-05", rrule="FREQ=DAILY;UNTIL=20260110T120000Z"
    )
    assert daily_all_day.rrule == "FREQ=DAILY;UNTIL=20260110"
    counted = record(
        "c-count", start="2026-01-05T09:00", end="2026-01-05T10:00", rrule="FREQ=MONTHLY;COUNT=3"
    )
    endless = record(
        "e-endless", start="2026-01-05T09:00", end="2026-01-05T10:00", rrule="FREQ=MONTHLY"
    )
    store.apply([weekly, daily_all_day, counted, endless])

    def ids(lo: datetime, hi: datetime) -> set[str]:
        return {e.id for e in store.iter_range("chris", lo, hi)}

    assert ids(datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC)) >= {"w-until"}
    assert "d-until" in ids(datetime(2026, 1, 10, tzinfo=UTC), datetime(2026, 1, 11, tzinfo=UTC))
    later = ids(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))
    assert later == {"e-endless"}
    # The time-range filter reads the same rules: the all-day UNTIL series is decided here
    # (it used to fall back to Radicale's parser) and its last day is the 10th.
    event = store.get("d-until")
    assert event is not None
    assert (
        has_instance(
            event, datetime(2026, 1, 10, 6, tzinfo=UTC), datetime(2026, 1, 10, 7, tzinfo=UTC)
        )
        is True
    )
    assert (
        has_instance(
            event, datetime(2026, 1, 11, 6, tzinfo=UTC), datetime(2026, 1, 12, 6, tzinfo=UTC)
        )
        is False
    )


def test_an_ended_series_leaves_the_feed(tmp_path: Path) -> None:
    """Reproduces: every series that ended by UNTIL stayed in every subscription feed."""
    settings = load(write_config(tmp_path))
    store = open_store(settings)
    today = date.today()
    first = today - timedelta(days=120)
    ended = today - timedelta(days=60)  # before the feed's 30-day window
    store.apply(
        [
            record(
                "gone",
                start=f"{first}T09:00",
                end=f"{first}T10:00",
                rrule=f"FREQ=WEEKLY;UNTIL={ended:%Y%m%d}",
            ),
            record("on", start=f"{first}T11:00", end=f"{first}T12:00", rrule="FREQ=WEEKLY"),
        ]
    )
    try:
        with ServerThread(create_app(settings, store, mirror=False)) as srv:
            url = feed_url(settings, store.feed_token("chris")).replace(
                settings.bridge.base_url, srv.url
            )
            answer = http("GET", url)
    finally:
        store.close()
    assert answer.status == 200
    uids = {str(e["UID"]) for e in Calendar.from_ical(answer.body).walk("VEVENT")}
    assert uids == {"ipoint-on"}


def test_every_expansion_reads_a_bounded_number_of_instances() -> None:
    """Reproduces: an endless series queried far from its start made dateutil walk every
    instance in between (an endless SECONDLY series cost another user's week query 5.6 s);
    an expansion now reads at most ``limit`` instances from the start, skipped ones included."""
    from zoneinfo import ZoneInfo

    from bridge.recurrence import build, instances

    tz = ZoneInfo(TZ)
    daily = build("FREQ=DAILY", datetime(2026, 1, 1, 9, tzinfo=ZoneInfo(TZ)), tz)
    near = datetime(2026, 1, 5, tzinfo=UTC)
    assert next(iter(instances(daily, near, limit=10))) == datetime(2026, 1, 5, 9, tzinfo=tz)
    assert list(instances(daily, datetime(2026, 1, 20, tzinfo=UTC), limit=10)) == []
    all_day = build("FREQ=WEEKLY;UNTIL=20260201", date(2026, 1, 1), tz)
    assert len(list(instances(all_day, limit=3))) == 3
    assert [d.day for d in instances(all_day, datetime(2026, 1, 20, 6, tzinfo=UTC))] == [22, 29]
