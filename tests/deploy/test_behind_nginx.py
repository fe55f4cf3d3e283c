"""The bridge behind a real nginx terminating TLS (the shipped recipe's locations): CalDAV
discovery and sync under ``/caldav/``, the push API and a feed through https."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import caldav

from tests.deploy.conftest import CHRIS_PASSWORD, TOKEN, Deployment
from tests.support import run_cli

AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


def push(deployment: Deployment, event_id: str, title: str, day: int = 1) -> None:
    body = {
        "user": "chris",
        "user_name": "Chris Miller",
        "title": title,
        "start": f"2026-12-{day:02d}T09:00",
        "end": f"2026-12-{day:02d}T10:00",
    }
    status, _, answer = deployment.nginx.request(
        "PUT", f"/api/v1/events/{event_id}", json.dumps(body).encode(), AUTH
    )
    assert status == 200, answer


def dav(deployment: Deployment, url: str | None = None) -> Any:
    return caldav.DAVClient(
        url=url or deployment.url + "/caldav/",
        username="chris",
        password=CHRIS_PASSWORD,
        ssl_verify_cert=str(deployment.nginx.cafile),
    )


def ipoint_calendar(client: Any) -> Any:
    calendars = client.principal().calendars()
    (calendar,) = [c for c in calendars if "ipoint" in str(c.url)]
    return calendar


def test_caldav_discovery_and_sync_under_a_path(deployment: Deployment) -> None:
    push(deployment, "WO-1", "Mount projector")
    calendar = ipoint_calendar(dav(deployment))
    assert str(calendar.url).startswith(deployment.url + "/caldav/chris/"), calendar.url
    assert calendar.get_display_name() == "iPoint – Chris"

    # sync-collection (answered by the bridge's front from the store): hrefs carry /caldav.
    first = calendar.objects_by_sync_token(load_objects=True)
    # (other tests of this folder may have added theirs: this deployment is shared)
    assert "Mount projector" in [o.icalendar_component["SUMMARY"] for o in first]
    assert all(str(o.url).startswith(deployment.url + "/caldav/chris/") for o in first)

    push(deployment, "WO-2", "Run cable", day=2)
    later = calendar.objects_by_sync_token(sync_token=first.sync_token, load_objects=True)
    assert [o.icalendar_component["SUMMARY"] for o in later] == ["Run cable"]

    # A time-range query (also the front's) and the whole calendar as one GET.
    found = calendar.search(start=_day(2), end=_day(3), event=True, expand=False)
    assert [e.icalendar_component["SUMMARY"] for e in found] == ["Run cable"]
    # A multiget names its items with the prefix; the answer names them the same way.
    hrefs = [urlsplit(str(o.url)).path for o in first]
    multiget = (
        '<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        "<D:prop><D:getetag/><C:calendar-data/></D:prop>"
        + "".join(f"<D:href>{h}</D:href>" for h in hrefs)
        + "</C:calendar-multiget>"
    )
    status, _, body = deployment.nginx.request(
        "REPORT",
        "/caldav/chris/ipoint/",
        multiget.encode(),
        {**_basic(), "Depth": "1", "Content-Type": "application/xml"},
    )
    assert status == 207, body
    assert all(f"<href>{h}</href>".encode() in body.replace(b"D:href", b"href") for h in hrefs)
    assert b"SUMMARY:Mount projector" in body
    status, headers, body = deployment.nginx.request(
        "GET", "/caldav/chris/ipoint/", headers=_basic()
    )
    assert status == 200 and b"SUMMARY:Run cable" in body, (status, body[:200])
    assert headers["Content-Type"].startswith("text/calendar")


def test_discovery_from_the_host_name_alone(deployment: Deployment) -> None:
    status, headers, _ = deployment.nginx.request("GET", "/.well-known/caldav")
    assert status == 301 and headers["Location"] == deployment.url + "/caldav/"
    # RFC 6764: what a phone given only the server's name asks first.
    client = dav(deployment, deployment.url + "/.well-known/caldav")
    found = client.principal().calendar_home_set.url
    assert str(found).startswith(deployment.url + "/caldav/chris/"), found


def test_wrong_password_through_the_proxy_is_refused(deployment: Deployment) -> None:
    status, _, _ = deployment.nginx.request(
        "PROPFIND", "/caldav/chris/ipoint/", headers={**_basic("wrong"), "Depth": "0"}
    )
    assert status == 401


def test_feed_through_https(deployment: Deployment) -> None:
    push(deployment, "WO-3", "Feed check", day=3)
    shown = run_cli("-c", str(deployment.serve.config), "feeds", "show", "chris")
    assert shown.returncode == 0, shown.stderr
    url = shown.stdout.splitlines()[0].split(": ", 1)[1]
    assert url.startswith(deployment.url + "/feeds/"), url
    status, headers, body = deployment.nginx.request("GET", url[len(deployment.url) :])
    assert status == 200 and b"SUMMARY:Feed check" in body
    etag = headers["ETag"]
    status, _, _ = deployment.nginx.request(
        "GET", url[len(deployment.url) :], headers={"If-None-Match": etag}
    )
    assert status == 304


def _basic(password: str = CHRIS_PASSWORD) -> dict[str, str]:
    import base64

    token = base64.b64encode(f"chris:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _day(day: int) -> Any:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime(2026, 12, day, tzinfo=ZoneInfo("America/Chicago"))
