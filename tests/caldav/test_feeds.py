"""Subscription feeds on the bridge's web server: content, window, conditional GET, rotation,
404 that reveals nothing, URL length, and the ``feeds`` commands."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from aiohttp import web
from icalendar import Calendar

from bridge.config import Settings, load
from bridge.runtime import open_store
from bridge.store import EventStore
from bridge.web.feeds import MAX_URL, feed_url, setup_feeds, webcal_url
from bridge.web.keys import SETTINGS, STORE
from tests.caldav.conftest import record
from tests.support import ServerThread, http, run_cli, write_config


class Feeds:
    def __init__(self, settings: Settings, store: EventStore, url: str, config: Path) -> None:
        self.settings, self.store, self.url, self.config = settings, store, url, config

    def get(self, token: str, **headers: str):
        return http("GET", f"{self.url}/feeds/{token}.ics", headers=headers)


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Feeds]:
    folder = tmp_path_factory.mktemp("feeds")
    config = write_config(
        folder, "[calendar:chris]\nname = Chris Miller\n[feeds]\nrefresh_minutes = 30\n"
    )
    settings = load(config)
    store = open_store(settings)
    today = date.today()
    store.apply(
        [
            record(
                "f-now",
                start=f"{today + timedelta(days=1)}T09:00",
                end=f"{today + timedelta(days=1)}T10:00",
            ),
            record(
                "f-old",
                start=f"{today - timedelta(days=40)}T09:00",
                end=f"{today - timedelta(days=40)}T10:00",
            ),
            record(
                "f-far",
                start=f"{today + timedelta(days=200)}T09:00",
                end=f"{today + timedelta(days=200)}T10:00",
            ),
            record(
                "f-allday", start=str(today + timedelta(days=3)), end=str(today + timedelta(days=4))
            ),
            record(
                "f-weekly",
                start=f"{today - timedelta(days=60)}T08:00",
                end=f"{today - timedelta(days=60)}T08:30",
                rrule="FREQ=WEEKLY",
            ),
        ]
    )
    app = web.Application()
    app[SETTINGS] = settings
    app[STORE] = store
    setup_feeds(app)
    with ServerThread(app) as running:
        yield Feeds(settings, store, running.url, config)
    store.close()


def test_feed_content_and_headers(feeds: Feeds) -> None:
    answer = feeds.get(feeds.store.feed_token("chris"))
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert answer.headers["ETag"] and answer.headers["Last-Modified"].endswith("GMT")
    cal = Calendar.from_ical(answer.body)
    assert str(cal["METHOD"]) == "PUBLISH"
    assert str(cal["X-WR-CALNAME"]) == "iPoint – Chris Miller"
    assert str(cal["X-WR-TIMEZONE"]) == "America/Chicago"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT30M\r\n" in answer.body
    assert b"X-PUBLISHED-TTL:PT30M\r\n" in answer.body
    uids = {str(e["UID"]) for e in cal.walk("VEVENT")}
    # 30 days back, 180 ahead; a series that started before the window is kept whole.
    assert uids == {"ipoint-f-now", "ipoint-f-allday", "ipoint-f-weekly"}
    assert [str(z["TZID"]) for z in cal.walk("VTIMEZONE")] == ["America/Chicago"]
    allday = next(e for e in cal.walk("VEVENT") if str(e["UID"]) == "ipoint-f-allday")
    assert allday["DTEND"].dt - allday["DTSTART"].dt == timedelta(days=2)


def test_conditional_get(feeds: Feeds) -> None:
    token = feeds.store.feed_token("chris")
    first = feeds.get(token)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert feeds.get(token, **{"If-None-Match": etag}).status == 304
    assert feeds.get(token, **{"If-None-Match": "W/" + etag}).status == 304
    assert feeds.get(token, **{"If-Modified-Since": modified}).status == 304
    earlier = format_datetime(datetime(2000, 1, 1).astimezone(), usegmt=False)
    assert feeds.get(token, **{"If-Modified-Since": earlier}).status == 200
    feeds.store.apply([record("f-new", start=f"{date.today()}T12:00", end=f"{date.today()}T13:00")])
    changed = feeds.get(token, **{"If-None-Match": etag})
    assert changed.status == 200 and b"UID:ipoint-f-new" in changed.body
    assert changed.headers["ETag"] != etag


def test_rotation_and_unknown_tokens_look_the_same(feeds: Feeds) -> None:
    old = feeds.store.feed_token("chris")
    new = feeds.store.rotate_feed_token("chris")
    assert feeds.get(new).status == 200
    gone = feeds.get(old)
    unknown = feeds.get("A" * 32)
    assert gone.status == unknown.status == 404
    assert gone.body == unknown.body == b"Not Found"
    assert b"chris" not in gone.body.lower()
    assert http("GET", f"{feeds.url}/feeds/..%2F.ics").status == 404


def test_urls(feeds: Feeds) -> None:
    token = feeds.store.feed_token("chris")
    url = feed_url(feeds.settings, token)
    assert url.startswith("http://127.0.0.1:8080/feeds/") and len(url) <= MAX_URL
    assert len(token) >= 32  # 192 random bits, at least 128 required
    assert webcal_url(url) == "webcal://127.0.0.1:8080/feeds/" + token + ".ics"
    long_base = "https://" + "calendar." * 20 + "example.com"
    assert len(long_base + "/feeds/" + token + ".ics") <= MAX_URL


def test_feeds_commands(feeds: Feeds) -> None:
    shown = run_cli("-c", str(feeds.config), "feeds", "show", "chris")
    assert shown.returncode == 0, shown.stderr
    token = feeds.store.feed_token("chris")
    assert f"/feeds/{token}.ics" in shown.stdout and "webcal://" in shown.stdout
    rotated = run_cli("-c", str(feeds.config), "feeds", "rotate", "chris")
    assert rotated.returncode == 0, rotated.stderr
    new = feeds.store.feed_token("chris")
    assert new != token and f"/feeds/{new}.ics" in rotated.stdout
    assert feeds.get(token).status == 404 and feeds.get(new).status == 200
    missing = run_cli("-c", str(feeds.config), "feeds", "show", "nobody")
    assert missing.returncode == 2 and "nobody" in missing.stderr
