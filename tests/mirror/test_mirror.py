"""The mirror against the Google emulator over real HTTP, reading the bridge's own CalDAV
server: initial mirror, propagation, time correctness, recurrence, revival, sharing."""

from __future__ import annotations

from typing import Any

from bridge.mirror import ids
from bridge.mirror.reconcile import reconcile
from tests.mirror.support import Shop, record


def _gid(shop: Shop, rid: str, login: str = "chris") -> str:
    return ids.event_id("user:" + login, "ipoint-" + rid)


def test_initial_mirror_one_calendar_per_technician(shop: Shop) -> None:
    shop.put(
        record("wo1", kind="work_order", title="Install TV", location="12 Elm St"),
        record("ev2", user="sam", title="Team meeting"),
        record("ev3", attendees=["sam"], title="Big install"),
    )
    health = shop.sync()
    assert health.converged, health.reasons
    chris, sam = shop.events("chris"), shop.events("sam")
    assert sorted(e["summary"] for e in chris.values()) == ["Big install", "Install TV"]
    assert sorted(e["summary"] for e in sam.values()) == ["Big install", "Team meeting"]
    wo = chris[_gid(shop, "wo1")]
    assert wo["location"] == "12 Elm St"
    assert wo["colorId"] == "9"
    assert "Managed by iPoint" in wo["description"]
    assert wo["extendedProperties"]["private"] == {"ipointBridge": "1"}
    assert "attendees" not in wo
    cal = shop.snapshot_calendar(shop.calendar_id("chris"))["calendar"]
    assert cal["summary"] == "iP Chris"
    assert cal["timeZone"] == "America/Chicago"
    # 2 calendar creations + 1 calendar list + 4 events + ACL listings of both calendars.
    assert shop.calls() <= 9
    before = shop.calls()
    assert shop.sync().converged
    assert shop.calls() == before, "an unchanged source must cost no Google call"


def test_create_update_delete_propagate(shop: Shop) -> None:
    shop.put(record("a"), record("b"))
    assert shop.sync().converged
    shop.put(record("a", title="Changed title"), record("c"))
    shop.delete("b")
    before = shop.calls()
    assert shop.sync().converged
    assert shop.calls() - before == 3
    live = shop.events("chris")
    assert {e["summary"] for e in live.values()} == {"Changed title", "Job c"}
    everything = shop.events("chris", cancelled=True)
    assert everything[_gid(shop, "b")]["status"] == "cancelled"


def test_deleted_then_recreated_event_is_revived_not_duplicated(shop: Shop) -> None:
    shop.put(record("a"))
    assert shop.sync().converged
    shop.delete("a")
    assert shop.sync().converged
    shop.put(record("a", title="Back again"))
    assert shop.sync().converged
    live = shop.events("chris")
    assert [e["summary"] for e in live.values()] == ["Back again"]


def test_dst_and_all_day(shop: Shop) -> None:
    shop.put(
        # 01:30 to 03:30 on the night clocks spring forward in Chicago: 1 real hour.
        record("dst", start="2030-03-10T01:30", end="2030-03-10T03:30"),
        # Fall back: 01:30 happens twice; iPoint's naive time means the first.
        record("fall", start="2030-11-03T00:30", end="2030-11-03T02:30"),
        record("allday", start="2030-07-04", end="2030-07-05", title="Two days off"),
        record("utc", start="2030-06-01T15:00Z", end="2030-06-01T16:00Z"),
    )
    assert shop.sync().converged
    live = shop.events("chris")
    dst = live[_gid(shop, "dst")]
    assert dst["start"] == {"dateTime": "2030-03-10T01:30:00-06:00", "timeZone": "America/Chicago"}
    assert dst["end"] == {"dateTime": "2030-03-10T03:30:00-05:00", "timeZone": "America/Chicago"}
    fall = live[_gid(shop, "fall")]
    assert fall["start"]["dateTime"] == "2030-11-03T00:30:00-05:00"
    assert fall["end"]["dateTime"] == "2030-11-03T02:30:00-06:00"
    allday = live[_gid(shop, "allday")]
    assert allday["start"] == {"date": "2030-07-04"}
    assert allday["end"] == {"date": "2030-07-06"}, "all-day end is exclusive"
    utc = live[_gid(shop, "utc")]
    assert utc["start"]["dateTime"] in ("2030-06-01T10:00:00-05:00", "2030-06-01T15:00:00Z")


def test_recurring_event_with_exdate(shop: Shop) -> None:
    shop.put(
        record(
            "weekly",
            start="2030-03-04T09:00",
            end="2030-03-04T10:00",
            rrule="FREQ=WEEKLY;COUNT=6",
            exdates=["2030-03-11T09:00"],
        )
    )
    assert shop.sync().converged
    ev = shop.events("chris")[_gid(shop, "weekly")]
    assert ev["recurrence"] == [
        "RRULE:FREQ=WEEKLY;COUNT=6",
        "EXDATE;TZID=America/Chicago:20300311T090000",
    ]
    cid = shop.calendar_id("chris")
    status, body = shop.google.call(
        "GET", shop.google.events_path(cid, _gid(shop, "weekly")) + "/instances"
    )
    assert status == 200
    starts = [i["start"]["dateTime"][:16] for i in body["items"]]
    assert "2030-03-11T09:00" not in starts
    # The series crosses the DST change on 2030-03-10: wall time stays 09:00.
    assert starts[0] == "2030-03-04T09:00" and starts[1] == "2030-03-18T09:00"
    assert len(starts) == 5


def test_revival_after_hand_delete(shop: Shop) -> None:
    shop.put(record("a"), record("b"))
    assert shop.sync().converged
    cid, gid = shop.calendar_id("chris"), _gid(shop, "a")
    status, _ = shop.google.call("DELETE", shop.google.events_path(cid, gid))
    assert status == 204
    assert gid not in shop.events("chris")
    health = shop.sync(reconcile=True)
    assert health.converged, health.reasons
    assert shop.events("chris")[gid]["status"] == "confirmed"
    assert len(shop.events("chris")) == 2


def test_reconcile_repairs_hand_edits_and_removes_hand_added_copies(shop: Shop) -> None:
    shop.put(record("a"), record("b"))
    assert shop.sync().converged
    cid, gid = shop.calendar_id("chris"), _gid(shop, "a")
    path = shop.google.events_path(cid, gid)
    status, ev = shop.google.call("GET", path)
    ev["summary"] = "edited by hand"
    assert shop.google.call("PUT", path, ev)[0] == 200
    copy = {k: ev[k] for k in ("summary", "start", "end", "extendedProperties")}
    status, added = shop.google.call("POST", shop.google.events_path(cid), copy)
    assert status == 200
    # A plain sync trusts its status and costs nothing; reconcile finds the differences.
    before = shop.calls()
    assert shop.sync().converged and shop.calls() == before
    found = reconcile(shop.mirror())
    assert (found.edited, found.removed) == (1, 1)
    assert shop.sync().converged
    live = shop.events("chris")
    assert live[gid]["summary"] == "Job a"
    assert added["id"] not in live
    assert len(live) == 2
    # A second reconcile finds nothing (one listing call per calendar).
    found = reconcile(shop.mirror())
    assert (found.edited, found.missing, found.removed, found.reverted) == (0, 0, 0, 0)


def _acl(shop: Shop, login: str) -> set[tuple[str, str, str]]:
    cal = shop.snapshot_calendar(shop.calendar_id(login))
    out = set()
    for rule in cal["acl"]:
        if rule["role"] != "owner":
            scope: dict[str, Any] = rule["scope"]
            out.add((scope["type"], scope.get("value", ""), rule["role"]))
    return out


def test_acl_follows_the_config(shop: Shop) -> None:
    shop.reconfigure(
        "[calendar:chris]\nshare_with = boss@example.com, office@example.com\n"
        "share_domain = example.com\npublic = yes\n"
    )
    shop.put(record("a"))
    assert shop.sync().converged
    assert _acl(shop, "chris") == {
        ("user", "boss@example.com", "reader"),
        ("user", "office@example.com", "reader"),
        ("domain", "example.com", "reader"),
        ("default", "", "reader"),
    }
    row = shop.mirror().status.calendar("user:chris")
    assert row is not None and row.public_url and row.public_url.endswith("/public/basic.ics")
    sent = shop.emu.control("GET", "counters")
    assert not any(sent.get("sharing_notifications_sent", {}).values())
    shop.reconfigure("[calendar:chris]\nshare_with = boss@example.com\n")
    assert shop.sync().converged
    assert _acl(shop, "chris") == {("user", "boss@example.com", "reader")}
    row = shop.mirror().status.calendar("user:chris")
    assert row is not None and not row.public_url
    before = shop.calls()
    assert shop.sync().converged and shop.calls() == before


def test_calendar_renamed_when_the_name_changes(shop: Shop) -> None:
    shop.put(record("a"))
    assert shop.sync().converged
    shop.reconfigure("[calendar:chris]\nname = Christopher\n")
    assert shop.sync().converged
    cal = shop.snapshot_calendar(shop.calendar_id("chris"))["calendar"]
    assert cal["summary"] == "iP Christopher"


def test_repush_future_resends_only_future_events(shop: Shop) -> None:
    shop.put(record("old", start="2001-01-01T09:00", end="2001-01-01T10:00"), record("new"))
    assert shop.sync().converged
    before = shop.calls()
    m = shop.mirror()
    assert m.repush(future=True) == 1
    assert shop.sync().converged
    assert shop.calls() - before == 1


def test_calendar_deleted_by_hand_is_created_again_and_refilled(shop: Shop) -> None:
    shop.put(record("a"), record("b"))
    assert shop.sync().converged
    old = shop.calendar_id("chris")
    status, _ = shop.google.call("DELETE", f"calendars/{old}")
    assert status == 204
    shop.put(record("c"))
    health = shop.sync()
    if not health.converged:  # the first pass finds the calendar gone, the next refills it
        health = shop.sync()
    assert health.converged, health.reasons
    new = shop.calendar_id("chris")
    assert new != old
    assert sorted(e["summary"] for e in shop.events("chris").values()) == [
        "Job a",
        "Job b",
        "Job c",
    ]


def test_calendar_created_before_a_crash_is_found_again_not_doubled(shop: Shop) -> None:
    # What a kill right after calendars.insert leaves behind: a calendar with the marker whose
    # id never reached the status table.
    status, made = shop.google.call(
        "POST",
        "calendars",
        {"summary": "iP Chris", "description": "Managed by iPoint (ipoint-bridge:user:chris)"},
    )
    assert status == 200
    shop.put(record("a"))
    assert shop.sync().converged
    assert shop.calendar_id("chris") == made["id"]
    summaries = [c["calendar"]["summary"] for c in shop.emu.control("GET", "snapshot")["calendars"]]
    assert summaries.count("iP Chris") == 1
