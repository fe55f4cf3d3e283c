"""events.list: paging, filters, full and incremental sync, recurring series and instances."""

from __future__ import annotations

from typing import Any

from emulator_tests.google.helpers import Api, timed


def _all_pages(api: Api, query: dict[str, Any]) -> tuple[list[dict[str, Any]], str, int]:
    items: list[dict[str, Any]] = []
    token = None
    for pages in range(1, 100):
        page_query = dict(query)
        if token:
            page_query["pageToken"] = token
        body = api.call("GET", api.events(), query=page_query).body
        items += body["items"]
        token = body.get("nextPageToken")
        if token is None:
            return items, body["nextSyncToken"], pages
        assert "nextSyncToken" not in body
    raise AssertionError("too many pages")


def test_paging_and_sync_token_on_last_page_only(api: Api) -> None:
    for n in range(7):
        api.insert(timed(f"page{n:06d}"))
    items, sync, pages = _all_pages(api, {"maxResults": 3})
    assert pages == 3
    assert [e["id"] for e in items] == [f"page{n:06d}" for n in range(7)]
    assert sync


def test_incremental_sync_returns_changes_and_deletions(api: Api) -> None:
    for n in range(3):
        api.insert(timed(f"snc0{n:06d}"))
    _, token, _ = _all_pages(api, {})
    assert api.call("GET", api.events(), query={"syncToken": token}).body["items"] == []
    api.call("PATCH", api.events() + "/snc0000001", {"summary": "changed"})
    api.call("DELETE", api.events() + "/snc0000002")
    api.insert(timed("snc0000009"))
    body = api.call("GET", api.events(), query={"syncToken": token}).body
    by_id = {e["id"]: e for e in body["items"]}
    assert set(by_id) == {"snc0000001", "snc0000002", "snc0000009"}
    assert by_id["snc0000001"]["summary"] == "changed"
    # Incremental results without showDeleted carry only the guaranteed fields of deletions.
    assert by_id["snc0000002"]["status"] == "cancelled"
    assert "summary" not in by_id["snc0000002"]
    following = api.call("GET", api.events(), query={"syncToken": body["nextSyncToken"]}).body
    assert following["items"] == []


def test_changes_during_paging_are_replayed_next_sync(api: Api) -> None:
    for n in range(4):
        api.insert(timed(f"race{n:06d}"))
    first = api.call("GET", api.events(), query={"maxResults": 2}).body
    api.call("PATCH", api.events() + "/race000000", {"summary": "during paging"})
    last = api.call(
        "GET", api.events(), query={"maxResults": 2, "pageToken": first["nextPageToken"]}
    ).body
    replay = api.call("GET", api.events(), query={"syncToken": last["nextSyncToken"]}).body
    assert [e["id"] for e in replay["items"]] == ["race000000"]


def test_sync_token_errors(api: Api) -> None:
    api.insert(timed("tokn000001"))
    _, token, _ = _all_pages(api, {})
    garbage = api.call("GET", api.events(), query={"syncToken": "not-a-token"})
    assert garbage.status == 410
    assert garbage.reason == "fullSyncRequired"
    assert garbage.body["error"]["errors"][0]["location"] == "syncToken"
    for param in ("timeMin", "privateExtendedProperty", "updatedMin", "q", "orderBy"):
        value = "2030-01-01T00:00:00Z" if param in ("timeMin", "updatedMin") else "a=b"
        reply = api.call("GET", api.events(), query={"syncToken": token, param: value})
        assert reply.status == 400, param
    api.emu.control("POST", "calendars/demo@example.com/invalidate_sync_tokens")
    expired = api.call("GET", api.events(), query={"syncToken": token})
    assert expired.status == 410
    assert expired.reason == "fullSyncRequired"


def test_show_deleted_updated_min_and_purge(api: Api) -> None:
    api.insert(timed("del0000001"))
    api.insert(timed("del0000002"))
    api.call("DELETE", api.events() + "/del0000001")
    plain = api.call("GET", api.events()).body["items"]
    assert [e["id"] for e in plain] == ["del0000002"]
    shown = api.call("GET", api.events(), query={"showDeleted": "true"}).body["items"]
    assert {e["id"]: e["status"] for e in shown} == {
        "del0000001": "cancelled",
        "del0000002": "confirmed",
    }
    since = api.call("GET", api.events(), query={"updatedMin": "2000-01-01T00:00:00Z"}).body
    assert {e["id"] for e in since["items"]} == {"del0000001", "del0000002"}
    purged = api.emu.control("POST", "calendars/demo@example.com/purge_deleted")
    assert purged["purged"] == ["del0000001"]
    old = api.call("GET", api.events(), query={"updatedMin": "2000-01-01T00:00:00Z"})
    assert old.status == 410
    assert old.reason == "updatedMinTooLongAgo"


def test_extended_property_filters_or_within_and_across_kinds(api: Api) -> None:
    api.insert(timed("epp0000001", extendedProperties={"private": {"src": "ipoint", "u": "chris"}}))
    api.insert(timed("epp0000002", extendedProperties={"private": {"src": "ipoint", "u": "ann"}}))
    api.insert(timed("epp0000003", extendedProperties={"shared": {"src": "ipoint"}}))
    one = api.call("GET", api.events(), query={"privateExtendedProperty": "u=ann"}).body["items"]
    assert [e["id"] for e in one] == ["epp0000002"]
    # The extended-properties guide: repeated constraints are OR'ed ...
    either = [("privateExtendedProperty", "u=chris"), ("privateExtendedProperty", "u=ann")]
    items = api.call("GET", api.events(), query=either).body["items"]
    assert [e["id"] for e in items] == ["epp0000001", "epp0000002"]
    # ... private and shared constraints are AND'ed.
    both = [("privateExtendedProperty", "src=ipoint"), ("sharedExtendedProperty", "src=ipoint")]
    assert api.call("GET", api.events(), query=both).body["items"] == []
    bad = api.call("GET", api.events(), query={"privateExtendedProperty": "novalue"})
    assert bad.status == 400


def test_time_window_and_empty_range(api: Api) -> None:
    api.insert(timed("slt0000001", start="2030-01-07T09:00:00Z", end="2030-01-07T10:00:00Z"))
    api.insert(timed("slt0000002", start="2030-01-08T09:00:00Z", end="2030-01-08T10:00:00Z"))
    api.insert({"id": "slt0000003", "start": {"date": "2030-01-09"}, "end": {"date": "2030-01-10"}})
    query = {"timeMin": "2030-01-07T10:00:00Z", "timeMax": "2030-01-09T00:00:01Z"}
    items = api.call("GET", api.events(), query=query).body["items"]
    assert [e["id"] for e in items] == ["slt0000002", "slt0000003"]
    empty = api.call(
        "GET",
        api.events(),
        query={"timeMin": "2030-01-08T00:00:00Z", "timeMax": "2030-01-08T00:00:00Z"},
    )
    assert empty.status == 400
    assert empty.reason == "timeRangeEmpty"
    no_offset = api.call("GET", api.events(), query={"timeMin": "2030-01-08T00:00:00"})
    assert no_offset.status == 400


def test_single_events_expands_series_with_exceptions(api: Api) -> None:
    series = timed("ser0000001", recurrence=["RRULE:FREQ=DAILY;COUNT=4"])
    series["start"]["timeZone"] = series["end"]["timeZone"] = "Europe/Berlin"
    api.insert(series)
    instance = api.call("GET", api.events() + "/ser0000001_20300108T090000Z")
    assert instance.status == 200
    assert instance.body["recurringEventId"] == "ser0000001"
    assert "recurrence" not in instance.body
    assert api.call("GET", api.events() + "/ser0000001_20300108T100000Z").status == 404
    moved = api.call(
        "PATCH", api.events() + "/ser0000001_20300108T090000Z", {"summary": "moved"}
    ).body
    assert moved["summary"] == "moved"
    assert moved["originalStartTime"]["dateTime"] == "2030-01-08T10:00:00+01:00"
    assert api.call("DELETE", api.events() + "/ser0000001_20300109T090000Z").status == 204
    expanded = api.call(
        "GET", api.events(), query={"singleEvents": "true", "orderBy": "startTime"}
    ).body["items"]
    assert [e["id"] for e in expanded] == [
        "ser0000001_20300107T090000Z",
        "ser0000001_20300108T090000Z",
        "ser0000001_20300110T090000Z",
    ]
    assert expanded[1]["summary"] == "moved"
    folded = api.call("GET", api.events()).body["items"]
    # Without singleEvents: the series, its exception, and the cancelled instance.
    assert {e["id"]: e["status"] for e in folded} == {
        "ser0000001": "confirmed",
        "ser0000001_20300108T090000Z": "confirmed",
        "ser0000001_20300109T090000Z": "cancelled",
    }
    bad_order = api.call("GET", api.events(), query={"orderBy": "startTime"})
    assert bad_order.status == 400
    instances = api.call("GET", api.events() + "/ser0000001/instances").body["items"]
    assert len(instances) == 3


def test_insert_instance_by_recurring_event_id(api: Api) -> None:
    series = timed("ser0000002", recurrence=["RRULE:FREQ=WEEKLY;COUNT=2"])
    series["start"]["timeZone"] = series["end"]["timeZone"] = "UTC"
    api.insert(series)
    body = timed(
        summary="exception",
        recurringEventId="ser0000002",
        originalStartTime={"dateTime": "2030-01-14T09:00:00Z", "timeZone": "UTC"},
        start="2030-01-14T11:00:00Z",
        end="2030-01-14T12:00:00Z",
    )
    made = api.insert(body)
    assert made.status == 200
    assert made.body["id"] == "ser0000002_20300114T090000Z"
    assert api.insert(body).reason == "duplicate"
    body["originalStartTime"] = {"dateTime": "2030-01-15T09:00:00Z"}
    assert api.insert(body).status == 400


def test_fields_partial_response(api: Api) -> None:
    api.insert(timed("fld0000001", description="secret"))
    body = api.call("GET", api.events(), query={"fields": "items(id,etag),nextSyncToken"}).body
    assert set(body) == {"items", "nextSyncToken"}
    assert set(body["items"][0]) == {"id", "etag"}
