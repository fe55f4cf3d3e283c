"""A running bridge for the ingest tests: the push API (aiohttp app on a real socket) and the
CalDAV server (Radicale with the plugin) on one SQLite store, and readers that parse every
answer a client would get."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from icalendar import Calendar

from bridge.web.app import create_app
from bridge.web.feeds import feed_url
from tests.caldav.conftest import Server, serving, sync_report, time_range_report
from tests.support import Answer, ServerThread, http

TOKEN = "ingest-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
NS = {"D": "DAV:", "C": "urn:ietf:params:xml:ns:caldav"}


@dataclass
class Bridge:
    caldav: Server
    web: str

    def push(self, event_id: str, body: Any) -> Answer:
        return http("PUT", f"{self.web}/api/v1/events/{event_id}", body, AUTH)

    def batch(self, body: Any) -> Answer:
        return http("POST", f"{self.web}/api/v1/events", body, AUTH)

    def read_all(self, login: str) -> dict[str, str]:
        """Every read path of ``login``'s iPoint calendar, each answer parsed (XML with
        ElementTree, iCalendar with icalendar): sync-collection and a time-range query with
        calendar-data, the collection GET and the feed. Returns SUMMARY by UID as seen by the
        sync-collection."""
        path = f"/{login}/ipoint/"
        seen: dict[str, str] = {}
        props = '<getetag/><C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav"/>'
        for body in (
            sync_report(props=props),
            time_range_report("19000101T000000Z", "22000101T000000Z"),
        ):
            answer = self.caldav.request(
                "REPORT", path, login=login, body=body, headers={"Depth": "1"}
            )
            assert answer.status == 207, answer.body[:300]
            root = ET.fromstring(answer.body)  # raises on a body that is not well-formed
            for data in root.iter("{urn:ietf:params:xml:ns:caldav}calendar-data"):
                for event in Calendar.from_ical(data.text or "").walk("VEVENT"):
                    seen[str(event["UID"])] = str(event.get("SUMMARY"))
        whole = self.caldav.request("GET", path, login=login)
        assert whole.status == 200, whole.status
        uids = {str(e["UID"]) for e in Calendar.from_ical(whole.body).walk("VEVENT")}
        assert uids == set(seen), (uids, seen)
        settings = self.caldav.settings
        token = self.caldav.store.feed_token(login)
        feed = http("GET", feed_url(settings, token).replace(settings.bridge.base_url, self.web))
        assert feed.status == 200
        Calendar.from_ical(feed.body)
        return seen


@contextmanager
def running(folder: Path, extra: str = "") -> Iterator[Bridge]:
    config = f"[web]\ningest_token = {TOKEN}\nmax_body_bytes = 8388608\n" + extra
    with serving(folder, config) as caldav:
        app = create_app(caldav.settings, caldav.store, mirror=False)
        with ServerThread(app) as web:
            yield Bridge(caldav, web.url)
