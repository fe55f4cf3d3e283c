"""Re-Push Future Events, Reconcile now and feed rotation from the admin page."""

from __future__ import annotations

import json
from datetime import date, timedelta

from bridge.mirror.control import CalendarStatus
from bridge.validate import validate_batch
from tests.admin.support import BridgeServer, Client, FakeMirror, wait_until


def add_events(bridge: BridgeServer, count: int = 4) -> None:
    day = date.today() + timedelta(days=1)
    raws: list[tuple[int | None, object]] = []
    for i in range(count):
        start = day + timedelta(days=i // 8)
        hour = 8 + i % 8
        raws.append(
            (
                None,
                {
                    "id": f"wo-{i}",
                    "user": "chris",
                    "user_name": "Chris",
                    "title": f"Job {i}",
                    "start": f"{start.isoformat()}T{hour:02d}:00",
                    "end": f"{start.isoformat()}T{hour:02d}:45",
                },
            )
        )
    bridge.store.apply(validate_batch(raws, "America/Chicago"))


def job_json(admin: Client, location: str) -> dict[str, object]:
    job_id = location.split("job=")[1].split("#")[0]
    reply = admin.get(f"/admin/jobs/{job_id}")
    assert reply.status == 200
    return dict(json.loads(reply.text))


def test_repush_needs_confirmation(admin: Client, mirror_holder: dict[str, FakeMirror]) -> None:
    reply = admin.post("/admin/repush", {"csrf": admin.csrf()})
    assert reply.status == 303
    assert "not confirmed" in admin.get("/admin").text
    assert mirror_holder["mirror"].runs == []


def test_repush_without_csrf_is_refused(
    admin: Client, mirror_holder: dict[str, FakeMirror]
) -> None:
    assert admin.post("/admin/repush", {"confirm": "yes"}).status == 403
    assert mirror_holder["mirror"].runs == []


def test_repush_runs_to_the_end_with_progress(
    admin: Client, bridge: BridgeServer, mirror_holder: dict[str, FakeMirror]
) -> None:
    add_events(bridge)
    reply = admin.post("/admin/repush", {"csrf": admin.csrf(), "confirm": "yes"})
    assert reply.status == 303 and "job=" in reply.location
    first = job_json(admin, reply.location)
    assert first["label"] == "Re-Push Future Events"
    wait_until(lambda: job_json(admin, reply.location)["finished"] is True)
    done = job_json(admin, reply.location)
    assert done["ok"] is True and done["done"] == done["total"] == 4
    assert done["summary"] == "4 events sent to Google"
    assert mirror_holder["mirror"].runs == ["repush"]
    assert "Re-Push Future Events finished" in admin.get(reply.location.split("#")[0]).text


def test_second_job_while_one_runs_is_refused(
    admin: Client, bridge: BridgeServer, mirror_holder: dict[str, FakeMirror]
) -> None:
    add_events(bridge, 20)
    first = admin.post("/admin/repush", {"csrf": admin.csrf(), "confirm": "yes"})
    second = admin.post("/admin/reconcile", {"csrf": admin.csrf()})
    assert second.status == 303 and "job=" not in second.location
    assert "still running" in admin.get("/admin").text
    wait_until(lambda: job_json(admin, first.location)["finished"] is True)
    third = admin.post("/admin/reconcile", {"csrf": admin.csrf()})
    wait_until(lambda: job_json(admin, third.location)["finished"] is True)
    assert mirror_holder["mirror"].runs == ["repush", "reconcile"]


def test_user_calendars_show_every_address(
    admin: Client, bridge: BridgeServer, mirror_holder: dict[str, FakeMirror]
) -> None:
    add_events(bridge, 1)
    mirror_holder["mirror"].statuses["chris"] = CalendarStatus(
        google_id="abc123@group.calendar.google.com",
        last_error="Google says the account's Calendar usage limits are exceeded.",
        pending=2,
    )
    page = admin.get("/admin").text
    token = bridge.store.feed_token("chris")
    assert f"{bridge.url}/feeds/{token}.ics" in page
    assert f"webcal://127.0.0.1:{bridge.url.rsplit(':', 1)[1]}/feeds/{token}.ics" in page
    assert "/chris/ipoint/" in page  # CalDAV collection
    assert "boss@example.com" in page
    assert "/calendar/ical/abc123@group.calendar.google.com/public/basic.ics" in page
    assert "usage limits are exceeded" in page
    assert "iP Chris" in page


def test_rotate_feed_replaces_the_token(admin: Client, bridge: BridgeServer) -> None:
    add_events(bridge, 1)
    old = bridge.store.feed_token("chris")
    reply = admin.post("/admin/feeds/chris/rotate", {"csrf": admin.csrf()})
    assert reply.status == 303 and reply.location == "/admin#cal-chris"
    new = bridge.store.feed_token("chris")
    assert new != old
    page = admin.get("/admin").text
    assert new in page and old not in page
    assert "old one stopped working" in page
    # The feed server agrees: the old address is gone at once, the new one serves the calendar.
    assert admin.get(f"/feeds/{old}.ics").status == 404
    fresh = admin.get(f"/feeds/{new}.ics")
    assert fresh.status == 200 and "BEGIN:VCALENDAR" in fresh.text


def test_rotate_without_csrf_is_refused(admin: Client, bridge: BridgeServer) -> None:
    add_events(bridge, 1)
    old = bridge.store.feed_token("chris")
    assert admin.post("/admin/feeds/chris/rotate", {}).status == 403
    assert bridge.store.feed_token("chris") == old


def test_rotate_unknown_calendar(admin: Client) -> None:
    assert admin.post("/admin/feeds/nobody/rotate", {"csrf": admin.csrf()}).status == 404
