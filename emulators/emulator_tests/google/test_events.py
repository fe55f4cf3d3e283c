"""Single-event behaviour: client-chosen ids, duplicates, soft delete and revival, validation."""

from __future__ import annotations

from emulator_tests.google.helpers import Api, timed


def test_client_chosen_id_accepted_and_echoed(api: Api) -> None:
    reply = api.insert(timed("abcde12345"))
    assert reply.status == 200
    event = reply.body
    assert event["id"] == "abcde12345"
    assert event["status"] == "confirmed"
    assert event["iCalUID"] == "abcde12345@google.com"
    assert event["sequence"] == 0
    assert event["etag"].startswith('"')
    assert event["htmlLink"].startswith(api.emu.base_url)
    assert event["organizer"] == {"email": "demo@example.com", "self": True}


def test_id_rules_follow_base32hex_and_length(api: Api) -> None:
    for bad in ("abcd", "ABCDE12345", "abcdw12345", "abc-de-123", "x" * 5, "a" * 1025):
        reply = api.insert(timed(bad))
        assert reply.status == 400, bad
        assert reply.reason == "invalid"
        assert reply.body["error"]["message"] == "Invalid resource id value."
    assert api.insert(timed("vvvvv")).status == 200
    assert api.insert(timed("0" * 1024)).status == 200


def test_generated_id_is_base32hex(api: Api) -> None:
    event = api.insert(timed()).body
    assert len(event["id"]) >= 5
    assert set(event["id"]) <= set("0123456789abcdefghijklmnopqrstuv")


def test_reusing_an_id_is_409_duplicate_even_after_delete(api: Api) -> None:
    assert api.insert(timed("dup0000001")).status == 200
    again = api.insert(timed("dup0000001"))
    assert again.status == 409
    assert again.reason == "duplicate"
    assert again.body["error"]["errors"][0]["domain"] == "global"
    assert again.body["error"]["message"] == "The requested identifier already exists."
    assert api.call("DELETE", api.events() + "/dup0000001").status == 204
    after_delete = api.insert(timed("dup0000001"))
    assert after_delete.status == 409
    assert after_delete.reason == "duplicate"


def test_delete_is_soft_get_returns_cancelled_second_delete_is_410(api: Api) -> None:
    api.insert(timed("gone000001"))
    assert api.call("DELETE", api.events() + "/gone000001").status == 204
    got = api.call("GET", api.events() + "/gone000001")
    assert got.status == 200
    assert got.body["status"] == "cancelled"
    second = api.call("DELETE", api.events() + "/gone000001")
    assert second.status == 410
    assert second.reason == "deleted"
    assert api.call("DELETE", api.events() + "/neverexisted").status == 404


def test_update_with_status_confirmed_revives(api: Api) -> None:
    api.insert(timed("rev0000001"))
    api.call("DELETE", api.events() + "/rev0000001")
    patched = api.call("PATCH", api.events() + "/rev0000001", {"summary": "still gone"})
    assert patched.status == 200
    assert patched.body["status"] == "cancelled"
    revived = api.call("PUT", api.events() + "/rev0000001", timed(status="confirmed"))
    assert revived.status == 200
    assert revived.body["status"] == "confirmed"
    listed = api.call("GET", api.events()).body["items"]
    assert [e["id"] for e in listed] == ["rev0000001"]


def test_update_unknown_event_is_404(api: Api) -> None:
    reply = api.call("PUT", api.events() + "/unknown0001", timed())
    assert reply.status == 404
    assert reply.reason == "notFound"


def test_patch_merges_and_put_replaces(api: Api) -> None:
    body = timed("pat0000001", description="d", location="shop")
    body["extendedProperties"] = {"private": {"ipoint": "1", "hash": "x"}}
    api.insert(body)
    patched = api.call(
        "PATCH",
        api.events() + "/pat0000001",
        {"summary": "New", "extendedProperties": {"private": {"hash": "y"}}},
    ).body
    assert patched["summary"] == "New"
    assert patched["location"] == "shop"
    assert patched["extendedProperties"]["private"] == {"ipoint": "1", "hash": "y"}
    replaced = api.call("PUT", api.events() + "/pat0000001", timed(summary="Only")).body
    assert replaced["summary"] == "Only"
    assert "location" not in replaced
    assert "extendedProperties" not in replaced


def test_time_validation(api: Api) -> None:
    no_offset = timed(start="2030-01-07T09:00:00", end="2030-01-07T10:00:00")
    reply = api.insert(no_offset)
    assert reply.status == 400
    assert reply.body["error"]["message"] == "Missing time zone definition for start time."
    with_zone = {
        "start": {"dateTime": "2030-01-07T09:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2030-01-07T10:00:00", "timeZone": "Europe/Berlin"},
    }
    ok = api.insert(with_zone)
    assert ok.status == 200
    assert ok.body["start"] == {
        "dateTime": "2030-01-07T09:00:00+01:00",
        "timeZone": "Europe/Berlin",
    }
    bad_zone = {
        "start": {"dateTime": "2030-01-07T09:00:00Z", "timeZone": "Mars/Olympus"},
        "end": {"dateTime": "2030-01-07T10:00:00Z"},
    }
    assert api.insert(bad_zone).status == 400
    backwards = api.insert(timed(start="2030-01-07T10:00:00Z", end="2030-01-07T09:00:00Z"))
    assert backwards.status == 400
    assert backwards.reason == "timeRangeEmpty"
    assert backwards.body["error"]["errors"][0]["domain"] == "calendar"
    mixed = {"start": {"date": "2030-01-07"}, "end": {"dateTime": "2030-01-07T10:00:00Z"}}
    assert api.insert(mixed).status == 400
    same_day = {"start": {"date": "2030-01-07"}, "end": {"date": "2030-01-07"}}
    assert api.insert(same_day).reason == "timeRangeEmpty"
    missing_end = {"start": {"date": "2030-01-07"}}
    assert api.insert(missing_end).body["error"]["message"] == "Missing end time."


def test_offset_times_are_shown_in_the_event_zone(api: Api) -> None:
    body = timed(start="2030-07-01T07:00:00Z", end="2030-07-01T08:00:00Z")
    body["start"]["timeZone"] = "America/Chicago"
    body["end"]["timeZone"] = "America/Chicago"
    event = api.insert(body).body
    assert event["start"]["dateTime"] == "2030-07-01T02:00:00-05:00"
    assert event["end"]["timeZone"] == "America/Chicago"


def test_recurring_event_needs_time_zone_and_keeps_lines(api: Api) -> None:
    lines = ["RRULE:FREQ=WEEKLY;COUNT=3", "EXDATE:20300114T090000Z"]
    reply = api.insert(timed("rec0000001", recurrence=lines))
    assert reply.status == 400
    assert reply.body["error"]["message"] == "Missing time zone definition for start time."
    body = timed("rec0000001", recurrence=lines)
    body["start"]["timeZone"] = body["end"]["timeZone"] = "UTC"
    event = api.insert(body).body
    assert event["recurrence"] == lines
    bad = timed("rec0000002", recurrence=["DTSTART:20300101T000000Z"])
    bad["start"]["timeZone"] = bad["end"]["timeZone"] = "UTC"
    assert api.insert(bad).reason == "invalid"


def test_color_and_extended_property_limits(api: Api) -> None:
    assert api.insert(timed(colorId="12")).status == 400
    props = {"private": {"k" * 45: "dropped", "ok": "v" * 2000}, "shared": {"s": "1"}}
    event = api.insert(timed(colorId="11", extendedProperties=props)).body
    assert event["colorId"] == "11"
    assert event["extendedProperties"]["private"] == {"ok": "v" * 1024}
    assert event["extendedProperties"]["shared"] == {"s": "1"}


def test_if_match_and_if_none_match(api: Api) -> None:
    event = api.insert(timed("etag000001")).body
    stale = api.call("PUT", api.events() + "/etag000001", timed(), headers={"If-Match": '"1"'})
    assert stale.status == 412
    assert stale.reason == "conditionNotMet"
    fresh = api.call(
        "PUT", api.events() + "/etag000001", timed(summary="B"), headers={"If-Match": event["etag"]}
    )
    assert fresh.status == 200
    assert fresh.body["etag"] != event["etag"]
    cached = api.call(
        "GET", api.events() + "/etag000001", headers={"If-None-Match": fresh.body["etag"]}
    )
    assert cached.status == 304


def test_sequence_rules(api: Api) -> None:
    api.insert(timed("seq0000001"))
    moved = api.call(
        "PUT",
        api.events() + "/seq0000001",
        timed(start="2030-01-08T09:00:00Z", end="2030-01-08T10:00:00Z"),
    ).body
    assert moved["sequence"] == 1
    renamed = api.call("PATCH", api.events() + "/seq0000001", {"summary": "x"}).body
    assert renamed["sequence"] == 1
    lower = api.call("PATCH", api.events() + "/seq0000001", {"sequence": 0})
    assert lower.status == 400


def test_attendees_are_stored_and_invitations_counted(api: Api) -> None:
    guests = [{"email": "customer@elsewhere.test"}, {"email": "boss@elsewhere.test"}]
    silent = api.insert(timed(attendees=guests))
    assert silent.body["attendees"] == guests
    counters = api.emu.control("GET", "counters")
    assert counters["users"]["demo@example.com"]["invitations_sent"] == 0
    api.insert(timed(attendees=guests), sendUpdates="all")
    api.insert(timed(attendees=guests), sendUpdates="none")
    counters = api.emu.control("GET", "counters")
    assert counters["users"]["demo@example.com"]["invitations_sent"] == 2
    assert api.insert(timed(), sendUpdates="sometimes").status == 400


def test_writer_access_is_required(emu: object, api: Api) -> None:
    from emulator_tests.google.helpers import Api as Client

    other = Client(api.emu, "tech@example.com")
    reply = other.insert(timed(), calendar="demo@example.com")
    assert reply.status == 404
    api.call(
        "POST",
        "calendars/demo%40example.com/acl",
        {"scope": {"type": "user", "value": "tech@example.com"}, "role": "reader"},
    )
    reply = other.insert(timed(), calendar="demo@example.com")
    assert reply.status == 403
    assert reply.reason == "requiredAccessLevel"
    assert other.call("GET", other.events("demo@example.com")).status == 200
