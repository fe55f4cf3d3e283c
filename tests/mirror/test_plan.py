"""The pure parts: ids, mapping, normalisation and both planners, without any I/O."""

from __future__ import annotations

import json

import icalendar
import pytest

from bridge.mirror import ids
from bridge.mirror.mapping import MapContext, MappingProblem, Unit, map_group, revert_body
from bridge.mirror.normalise import body_hash, item_hash
from bridge.mirror.plan import (
    Delta,
    EventRow,
    ItemRead,
    Known,
    plan_push,
    plan_source,
)

CTX = MapContext(source="user:chris", shop_tz="America/Chicago", color_work_order="9")


def _events(text: str) -> list[icalendar.Event]:
    cal = icalendar.Calendar.from_ical(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
        + text.strip().replace("\n", "\r\n")
        + "\r\nEND:VCALENDAR\r\n"
    )
    return [e for e in cal.walk("VEVENT")]  # type: ignore[misc]


def test_ids_are_base32hex_deterministic_and_distinct() -> None:
    a = ids.event_id("user:chris", "ipoint-1")
    assert a == ids.event_id("user:chris", "ipoint-1")
    assert a != ids.event_id("user:sam", "ipoint-1")
    assert len(a) == 32 and set(a) <= set("0123456789abcdefghijklmnopqrstuv")
    assert ids.is_valid(a)
    assert ids.instance_id(a, __import__("datetime").date(2030, 1, 2)) == a + "_20300102"


def test_floating_time_is_the_shops_and_missing_dtend_follows_rfc5545() -> None:
    (ev,) = _events("BEGIN:VEVENT\nUID:f\nDTSTART:20300105T080000\nSUMMARY:x\nEND:VEVENT")
    units = map_group("f", [ev], CTX).units
    body = units[0].body
    assert body is not None
    assert body["start"] == {"dateTime": "2030-01-05T08:00:00-06:00", "timeZone": "America/Chicago"}
    assert body["end"] == body["start"]
    (day,) = _events("BEGIN:VEVENT\nUID:d\nDTSTART;VALUE=DATE:20300105\nEND:VEVENT")
    body = map_group("d", [day], CTX).units[0].body
    assert body is not None and body["end"] == {"date": "2030-01-06"}


def test_cancelled_event_maps_to_a_delete_and_kind_picks_the_colour() -> None:
    (ev,) = _events("BEGIN:VEVENT\nUID:c\nDTSTART:20300105T080000Z\nSTATUS:CANCELLED\nEND:VEVENT")
    assert map_group("c", [ev], CTX).units[0].want == "deleted"
    (wo,) = _events(
        "BEGIN:VEVENT\nUID:w\nDTSTART:20300105T080000Z\nX-IPOINT-KIND:work_order\nEND:VEVENT"
    )
    body = map_group("w", [wo], CTX).units[0].body
    assert body is not None and body["colorId"] == "9" and "attendees" not in body


def test_two_masters_with_one_uid_are_refused() -> None:
    evs = _events(
        "BEGIN:VEVENT\nUID:x\nDTSTART:20300105T080000Z\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:x\nDTSTART:20300106T080000Z\nEND:VEVENT"
    )
    with pytest.raises(MappingProblem):
        map_group("x", evs, CTX)


def test_hashes_ignore_volatile_properties_but_see_content() -> None:
    a = _events("BEGIN:VEVENT\nUID:h\nDTSTAMP:20300101T000000Z\nSEQUENCE:1\nSUMMARY:a\nEND:VEVENT")
    b = _events("BEGIN:VEVENT\nSEQUENCE:7\nSUMMARY:a\nUID:h\nDTSTAMP:20310101T000000Z\nEND:VEVENT")
    c = _events("BEGIN:VEVENT\nUID:h\nSUMMARY:b\nEND:VEVENT")
    assert item_hash(a) == item_hash(b) != item_hash(c)
    assert item_hash(a, "salt") != item_hash(a)
    assert body_hash({"id": "x", "summary": "s"}) == body_hash({"summary": "s", "id": "y"})


def test_revert_body_puts_an_instance_back_at_its_original_time() -> None:
    series = {
        "summary": "Stand-up",
        "start": {"dateTime": "2030-03-04T09:00:00+01:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2030-03-04T09:15:00+01:00", "timeZone": "Europe/Berlin"},
        "recurrence": ["RRULE:FREQ=DAILY"],
    }
    body = revert_body(series, "abcde_20300305T080000Z")
    assert "recurrence" not in body and body["recurringEventId"] == "abcde"
    assert body["start"]["dateTime"] == "2030-03-05T09:00:00+01:00"
    assert body["end"]["dateTime"] == "2030-03-05T09:15:00+01:00"


def _unit(gid: str, h: str = "h1", series: str | None = None, want: str = "event") -> Unit:
    return Unit(gid, "uid", series, want, {"summary": h} if want == "event" else None, h, 0)


def test_plan_source_writes_only_changes_and_deletes_what_vanished() -> None:
    known = {
        "a": Known("a", "/a.ics", None, "event", "h1"),
        "b": Known("b", "/b.ics", None, "event", "h1"),
        "c": Known("c", "/c.ics", None, "event", "h1"),
    }
    delta = Delta(
        items=(
            ItemRead("/a.ics", '"1"', "x", (_unit("a"),)),
            ItemRead("/b.ics", '"2"', "y", (_unit("b", "h2"),)),
        ),
        removed=("/c.ics",),
    )
    plan = plan_source(delta, known)
    writes = {w.gid: w for w in plan.writes}
    assert set(writes) == {"b", "c"}
    assert writes["b"].want_hash == "h2" and writes["c"].want == "deleted"


def test_plan_source_refuses_a_sudden_empty_full_listing() -> None:
    known = {"a": Known("a", "uid:a", None, "event", "h1")}
    plan = plan_source(Delta(present=frozenset()), known)
    assert plan.refused and not plan.writes
    plan = plan_source(Delta(present=frozenset()), known, allow_empty=True)
    assert [w.want for w in plan.writes] == ["deleted"]


def test_plan_source_reverts_a_removed_override_and_redoes_instances_of_a_changed_series() -> None:
    known = {
        "s": Known("s", "/s.ics", None, "event", "h1"),
        "s_1": Known("s_1", "/s.ics", "s", "event", "o1"),
        "s_2": Known("s_2", "/s.ics", "s", "event", "o2"),
    }
    item = ItemRead("/s.ics", None, "z", (_unit("s", "h9"), _unit("s_2", "o2", series="s")))
    plan = plan_source(Delta(items=(item,)), known)
    writes = {w.gid: w.want for w in plan.writes}
    assert writes == {"s": "event", "s_1": "revert"}
    assert plan.redo == ("s_2",)


def test_plan_source_reports_a_uid_in_two_items() -> None:
    a = ItemRead("/a.ics", None, "x", (_unit("g"),))
    b = ItemRead("/b.ics", None, "y", (_unit("g"),))
    plan = plan_source(Delta(items=(a, b)), {})
    assert len(plan.writes) == 1 and plan.problems


def _row(
    gid: str,
    want: str = "event",
    done: str | None = None,
    remote: str = "none",
    series: str | None = None,
) -> EventRow:
    body = json.dumps({"summary": gid}) if want == "event" else None
    return EventRow(
        "k", gid, series, want, body, "h" if want != "deleted" else "deleted", done, remote
    )


def test_plan_push_kinds() -> None:
    rows = [
        _row("new"),
        _row("changed", done="old", remote="present"),
        _row("revive", done="old", remote="gone"),
        _row("gone", want="deleted", remote="present"),
        _row("never", want="deleted", remote="gone"),
    ]
    actions = {a.gid: a.kind for a in plan_push(rows, {}, {"k": "cal"})}
    assert actions == {
        "new": "insert",
        "changed": "update",
        "revive": "update",
        "gone": "delete",
        "never": "settle",
    }
    assert plan_push(rows, {}, {}) == [], "no calendar yet: nothing to plan"


def test_plan_push_instances_wait_for_their_series() -> None:
    series_dirty = _row("s", done=None, remote="none")
    inst = _row("s_20300101", series="s")
    assert [a.gid for a in plan_push([inst], {("k", "s"): series_dirty}, {"k": "c"})] == []
    series_ok = _row("s", done="h", remote="present")
    (action,) = plan_push([inst], {("k", "s"): series_ok}, {"k": "c"})
    assert action.kind == "update"
    series_gone = _row("s", want="deleted", remote="gone")
    (action,) = plan_push([inst], {("k", "s"): series_gone}, {"k": "c"})
    assert action.kind == "settle"


def test_iana_vtimezones_are_skipped_but_custom_ones_kept() -> None:
    from bridge.ical import vtimezone
    from bridge.mirror.mapping import without_known_zones

    custom = (
        "BEGIN:VTIMEZONE\r\nTZID:Custom Zone\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n"
        "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    )
    text = "BEGIN:VCALENDAR\r\n" + vtimezone("America/Chicago") + custom + "END:VCALENDAR\r\n"
    out = without_known_zones(text)
    assert "America/Chicago" not in out and "Custom Zone" in out
