"""Calendars, calendar lists, ACL rules and the public/secret iCal addresses."""

from __future__ import annotations

from urllib.parse import quote

from google_emulator.testing import EmulatorThread
from icalendar import Calendar

from emulator_tests.google.helpers import Api, http, timed


def _acl(cal_id: str) -> str:
    return f"calendars/{quote(cal_id, safe='')}/acl"


def test_calendar_life_cycle(api: Api) -> None:
    made = api.call("POST", "calendars", {"summary": "iP Chris", "timeZone": "America/Chicago"})
    assert made.status == 200
    cal = made.body
    assert cal["kind"] == "calendar#calendar"
    assert cal["dataOwner"] == "demo@example.com"
    path = f"calendars/{quote(cal['id'], safe='')}"
    patched = api.call("PATCH", path, {"description": "tech"}).body
    assert patched["summary"] == "iP Chris"
    assert patched["description"] == "tech"
    assert api.call("PUT", path, {"timeZone": "UTC"}).reason == "required"
    assert api.call("POST", "calendars", {"summary": "x", "timeZone": "Nowhere/City"}).status == 400
    entry = api.call("GET", f"users/me/calendarList/{quote(cal['id'], safe='')}").body
    assert entry["accessRole"] == "owner"
    assert api.call("DELETE", path).status == 204
    assert api.call("GET", path).status == 404
    assert api.call("DELETE", "calendars/primary").status == 400


def test_calendar_list_pages_and_sync(api: Api) -> None:
    ids = [api.call("POST", "calendars", {"summary": f"c{n}"}).body["id"] for n in range(4)]
    first = api.call("GET", "users/me/calendarList", query={"maxResults": 3}).body
    assert len(first["items"]) == 3
    assert "nextSyncToken" not in first
    second = api.call(
        "GET", "users/me/calendarList", query={"maxResults": 3, "pageToken": first["nextPageToken"]}
    ).body
    seen = [c["id"] for c in first["items"] + second["items"]]
    assert seen == ["demo@example.com", *ids]
    token = second["nextSyncToken"]
    api.call("DELETE", f"calendars/{quote(ids[0], safe='')}")
    changes = api.call("GET", "users/me/calendarList", query={"syncToken": token}).body["items"]
    assert changes == [
        {
            "kind": "calendar#calendarListEntry",
            "etag": changes[0]["etag"],
            "id": ids[0],
            "deleted": True,
        }
    ]
    bad = api.call(
        "GET", "users/me/calendarList", query={"syncToken": token, "minAccessRole": "owner"}
    )
    assert bad.status == 400


def test_acl_rule_ids_roles_and_notifications(emu: EmulatorThread, api: Api) -> None:
    cal = api.call("POST", "calendars", {"summary": "shared"}).body["id"]
    rules = [
        ({"type": "user", "value": "Tech@Example.com"}, "reader", "user:tech@example.com"),
        ({"type": "group", "value": "crew@example.com"}, "writer", "group:crew@example.com"),
        ({"type": "domain", "value": "example.com"}, "freeBusyReader", "domain:example.com"),
        ({"type": "default"}, "reader", "default"),
    ]
    for scope, role, rule_id in rules:
        made = api.call(
            "POST", _acl(cal), {"scope": scope, "role": role}, query={"sendNotifications": "false"}
        )
        assert made.status == 200
        assert made.body["id"] == rule_id
        assert made.body["role"] == role
    listed = api.call("GET", _acl(cal)).body
    assert [r["id"] for r in listed["items"]] == [
        "user:demo@example.com",
        *[rule_id for _, _, rule_id in rules],
    ]
    assert (
        emu.control("GET", "counters")["users"]["demo@example.com"]["sharing_notifications_sent"]
        == 0
    )
    api.call(
        "POST", _acl(cal), {"scope": {"type": "user", "value": "x@example.com"}, "role": "reader"}
    )
    assert (
        emu.control("GET", "counters")["users"]["demo@example.com"]["sharing_notifications_sent"]
        == 1
    )
    changed = api.call("PATCH", _acl(cal) + "/user:tech@example.com", {"role": "writer"})
    assert changed.body["role"] == "writer"
    assert api.call("DELETE", _acl(cal) + "/user:tech@example.com").status == 204
    assert api.call("GET", _acl(cal) + "/user:tech@example.com").status == 404
    deleted = api.call("GET", _acl(cal), query={"showDeleted": "true"}).body["items"]
    assert {r["id"]: r["role"] for r in deleted}["user:tech@example.com"] == "none"
    own = api.call("DELETE", _acl(cal) + "/user:demo@example.com")
    assert own.status == 403
    assert (
        api.call(
            "POST", _acl(cal), {"scope": {"type": "user", "value": "a@b.c"}, "role": "boss"}
        ).status
        == 400
    )
    assert api.call("POST", _acl(cal), {"role": "reader"}).status == 400


def test_public_ical_address(emu: EmulatorThread, api: Api) -> None:
    cal = api.call("POST", "calendars", {"summary": "iP Chris", "timeZone": "Europe/Berlin"}).body[
        "id"
    ]
    body = timed("ics0000001", summary="Install", location="Main St")
    body["start"]["timeZone"] = body["end"]["timeZone"] = "Europe/Berlin"
    api.insert(body, calendar=cal)
    api.insert(timed("ics0000002", summary="Gone"), calendar=cal)
    api.call("DELETE", api.events(cal) + "/ics0000002")
    url = f"{emu.base_url}/calendar/ical/{quote(cal, safe='')}/public/basic.ics"
    assert http("GET", url).status == 403
    assert (
        http("GET", f"{emu.base_url}/calendar/ical/nobody%40example.com/public/basic.ics").status
        == 404
    )
    api.call("POST", _acl(cal), {"scope": {"type": "default"}, "role": "reader"})
    reply = http("GET", url)
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/calendar")
    parsed = Calendar.from_ical(reply.body)
    assert str(parsed["x-wr-calname"]) == "iP Chris"
    assert str(parsed["method"]) == "PUBLISH"
    events = list(parsed.walk("VEVENT"))
    assert [str(e["summary"]) for e in events] == ["Install"]
    assert str(events[0]["uid"]) == "ics0000001@google.com"
    assert events[0]["dtstart"].dt.tzinfo is not None
    assert list(parsed.walk("VTIMEZONE"))
    api.call("PATCH", _acl(cal) + "/default", {"role": "freeBusyReader"})
    busy = Calendar.from_ical(http("GET", url).body)
    assert [str(e["summary"]) for e in busy.walk("VEVENT")] == ["Busy"]
    snapshot = emu.control("GET", "snapshot")
    private = next(c["private_ical"] for c in snapshot["calendars"] if c["calendar"]["id"] == cal)
    assert http("GET", private).status == 200


def test_public_calendar_is_readable_by_any_account(emu: EmulatorThread, api: Api) -> None:
    cal = api.call("POST", "calendars", {"summary": "public"}).body["id"]
    api.insert(timed("pub0000001"), calendar=cal)
    stranger = Api(emu, "stranger@example.org")
    assert stranger.call("GET", stranger.events(cal)).status == 404
    api.call("POST", _acl(cal), {"scope": {"type": "default"}, "role": "reader"})
    listed = stranger.call("GET", stranger.events(cal))
    assert listed.status == 200
    assert listed.body["accessRole"] == "reader"
    assert stranger.call("POST", "users/me/calendarList", {"id": cal}).status == 200
    ids = [c["id"] for c in stranger.call("GET", "users/me/calendarList").body["items"]]
    assert ids == ["stranger@example.org", cal]
