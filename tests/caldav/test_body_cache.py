"""Repeat GETs of an unchanged calendar and feed served from the gzipped body kept by ETag
(issue 12, item 6), on a real CalDAV server and a real web server.

Reproduces: every whole-calendar GET and feed fetch without If-None-Match rebuilt the body
from the store and gzipped it again (about 100 ms for 10,000 events). Reads of the store's
event listings are counted on the real store to show that a repeat costs none.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from aiohttp import web
from icalendar import Calendar

from bridge.web.feeds import setup_feeds
from bridge.web.keys import SETTINGS, STORE
from tests.caldav.conftest import Server, record, serving
from tests.support import ServerThread, http

OWN = "/chris/ipoint/"
GZIP = {"Accept-Encoding": "gzip"}


@pytest.fixture(scope="module")
def cached(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("cache")) as running:
        today = date.today()
        running.apply(
            *(
                record(
                    f"c{i}",
                    start=f"{today + timedelta(days=i % 30)}T09:00",
                    end=f"{today + timedelta(days=i % 30)}T10:00",
                    description="Bring ladder " * 20,
                )
                for i in range(600)
            )
        )
        yield running


def counting(monkeypatch: pytest.MonkeyPatch, store: Any, name: str) -> list[int]:
    calls = [0]
    real: Callable[..., Any] = getattr(store, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(store, name, counted)
    return calls


def events(body: bytes) -> set[str]:
    return {str(e["UID"]) for e in Calendar.from_ical(body).walk("VEVENT")}


def test_a_repeat_calendar_get_is_not_rebuilt(
    cached: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = counting(monkeypatch, cached.store, "iter_calendar")
    first = cached.request("GET", OWN, headers=GZIP)
    assert first.status == 200 and first.headers["Content-Encoding"] == "gzip"
    assert len(events(gzip.decompress(first.body))) == 600
    assert reads[0] == 1
    again = cached.request("GET", OWN, headers=GZIP)
    plain = cached.request("GET", OWN)
    assert reads[0] == 1, "an unchanged calendar was rebuilt"
    assert again.body == first.body and again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Content-Length"] == str(len(again.body))
    assert "Content-Encoding" not in plain.headers
    assert plain.body == gzip.decompress(first.body)
    # A granted reader's path serves the same calendar.
    boss = cached.request("GET", "/boss/ipoint-chris/", login="boss", headers=GZIP)
    assert boss.status == 200 and boss.body == first.body

    cached.apply(record("c-new"))
    changed = cached.request("GET", OWN, headers=GZIP)
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert "ipoint-c-new" in events(gzip.decompress(changed.body))
    assert reads[0] == 2
    assert cached.request("GET", OWN, headers=GZIP).body == changed.body
    assert reads[0] == 2
    cached.apply(deletes=("c-new",))


def test_a_refused_reader_gets_nothing_from_the_cache(cached: Server) -> None:
    assert cached.request("GET", OWN, headers=GZIP).status == 200
    assert cached.request("GET", OWN, login="eve", headers=GZIP).status == 403
    assert cached.request("GET", OWN, login=None, headers=GZIP).status == 401


@pytest.fixture
def feed_server(cached: Server) -> Iterator[str]:
    app = web.Application()
    app[SETTINGS] = cached.settings
    app[STORE] = cached.store
    setup_feeds(app)
    with ServerThread(app) as running:
        yield f"{running.url}/feeds/{cached.store.feed_token('chris')}.ics"


def test_a_repeat_feed_fetch_is_not_rebuilt(
    cached: Server, feed_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = counting(monkeypatch, cached.store, "iter_range")
    first = http("GET", feed_server, headers=GZIP)
    assert first.status == 200 and first.headers["Content-Encoding"] == "gzip"
    assert reads[0] == 1
    again = http("GET", feed_server, headers=GZIP)
    plain = http("GET", feed_server)
    assert reads[0] == 1, "an unchanged feed was rebuilt"
    assert again.body == first.body
    assert plain.body == gzip.decompress(first.body)
    assert "Content-Encoding" not in plain.headers
    assert len(events(plain.body)) == 600

    cached.apply(record("c-feed", start=f"{date.today()}T12:00", end=f"{date.today()}T13:00"))
    changed = http("GET", feed_server, headers=GZIP)
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert "ipoint-c-feed" in events(gzip.decompress(changed.body))
    assert reads[0] == 2
    cached.apply(deletes=("c-feed",))
