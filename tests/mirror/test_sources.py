"""Sources other than the iPoint calendars, and the readers' incremental behaviour: an ICS
feed with an overridden occurrence, conditional GET, the mass-delete refusal, a CalDAV sync
token the server no longer knows."""

from __future__ import annotations

from bridge.mirror import ids
from tests.mirror.support import IcsServer, Shop, lines, record, vcalendar

SERIES = lines(
    "BEGIN:VEVENT",
    "UID:standup@example.com",
    "DTSTAMP:20300101T000000Z",
    "SEQUENCE:0",
    "DTSTART;TZID=Europe/Berlin:20300304T090000",
    "DTEND;TZID=Europe/Berlin:20300304T091500",
    "RRULE:FREQ=DAILY;COUNT=5",
    "SUMMARY:Stand-up",
    "END:VEVENT",
)
MOVED = lines(
    "BEGIN:VEVENT",
    "UID:standup@example.com",
    "DTSTAMP:20300101T000000Z",
    "RECURRENCE-ID;TZID=Europe/Berlin:20300305T090000",
    "DTSTART;TZID=Europe/Berlin:20300305T110000",
    "DTEND;TZID=Europe/Berlin:20300305T113000",
    "SUMMARY:Stand-up (moved)",
    "END:VEVENT",
)
CANCELLED = lines(
    "BEGIN:VEVENT",
    "UID:standup@example.com",
    "DTSTAMP:20300101T000000Z",
    "RECURRENCE-ID;TZID=Europe/Berlin:20300306T090000",
    "DTSTART;TZID=Europe/Berlin:20300306T090000",
    "DTEND;TZID=Europe/Berlin:20300306T091500",
    "STATUS:CANCELLED",
    "SUMMARY:Stand-up",
    "END:VEVENT",
)
HOLIDAY = lines(
    "BEGIN:VEVENT",
    "UID:holiday@example.com",
    "DTSTAMP:20300101T000000Z",
    "DTSTART;VALUE=DATE:20301225",
    "SUMMARY:Christmas",
    "END:VEVENT",
)
WINDOWS = lines(
    "BEGIN:VTIMEZONE",
    "TZID:Eastern Standard Time",
    "BEGIN:STANDARD",
    "DTSTART:16010101T020000",
    "TZOFFSETFROM:-0400",
    "TZOFFSETTO:-0500",
    "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11",
    "END:STANDARD",
    "BEGIN:DAYLIGHT",
    "DTSTART:16010101T020000",
    "TZOFFSETFROM:-0500",
    "TZOFFSETTO:-0400",
    "RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3",
    "END:DAYLIGHT",
    "END:VTIMEZONE",
    "BEGIN:VEVENT",
    "UID:outlook@example.com",
    "DTSTAMP:20300101T000000Z",
    "DTSTART;TZID=Eastern Standard Time:20300701T100000",
    "DTEND;TZID=Eastern Standard Time:20300701T110000",
    "SUMMARY:From Outlook",
    "END:VEVENT",
)


def _feed_shop(shop: Shop, url: str) -> None:
    shop.reconfigure(f"[mirror:team]\nsource = {url}\ncalendar_name = Team calendar\n")


def _events(shop: Shop) -> dict[str, dict[str, object]]:
    row = shop.mirror().status.calendar("source:team")
    assert row is not None and row.google_id
    cal = shop.snapshot_calendar(row.google_id)
    return {e["id"]: e for e in cal["events"]}


def test_ics_feed_with_overridden_and_cancelled_occurrences(shop: Shop) -> None:
    with IcsServer(vcalendar(SERIES, MOVED, CANCELLED, HOLIDAY, WINDOWS)) as feed:
        _feed_shop(shop, feed.url)
        health = shop.sync()
        assert health.converged, health.reasons
        series = ids.event_id("source:team", "standup@example.com")
        events = _events(shop)
        assert events[series]["recurrence"] == ["RRULE:FREQ=DAILY;COUNT=5"]
        assert events[series]["start"] == {
            "dateTime": "2030-03-04T09:00:00+01:00",
            "timeZone": "Europe/Berlin",
        }
        moved = events[f"{series}_20300305T080000Z"]
        assert moved["summary"] == "Stand-up (moved)"
        assert moved["start"]["dateTime"] == "2030-03-05T11:00:00+01:00"
        assert events[f"{series}_20300306T080000Z"]["status"] == "cancelled"
        outlook = events[ids.event_id("source:team", "outlook@example.com")]
        assert outlook["start"] == {
            "dateTime": "2030-07-01T10:00:00-04:00",
            "timeZone": "America/New_York",
        }
        xmas = events[ids.event_id("source:team", "holiday@example.com")]
        assert xmas["start"] == {"date": "2030-12-25"} and xmas["end"] == {"date": "2030-12-26"}
        assert "Mirrored from team" in str(xmas["description"])
        # Unchanged feed: a 304, no Google call.
        calls = shop.calls()
        assert shop.sync().converged
        assert feed.not_modified >= 1 and shop.calls() == calls
        # A volatile-only change (DTSTAMP, SEQUENCE): new ETag, same content, no Google call.
        feed.set(
            vcalendar(
                SERIES.replace("SEQUENCE:0", "SEQUENCE:4"), MOVED, CANCELLED, HOLIDAY, WINDOWS
            ).replace("DTSTAMP:20300101T000000Z", "DTSTAMP:20300202T000000Z")
        )
        assert shop.sync().converged and shop.calls() == calls
        # The override leaves the feed: the occurrence goes back to the series' content.
        feed.set(vcalendar(SERIES, CANCELLED, HOLIDAY, WINDOWS))
        health = shop.sync()
        assert health.converged, health.reasons
        back = _events(shop)[f"{series}_20300305T080000Z"]
        assert back["summary"] == "Stand-up"
        assert back["start"]["dateTime"] == "2030-03-05T09:00:00+01:00"
        # The whole series leaves: it is deleted with its occurrences.
        feed.set(vcalendar(HOLIDAY, WINDOWS))
        assert shop.sync().converged
        events = _events(shop)
        assert events[series]["status"] == "cancelled"


def test_source_that_suddenly_reads_empty_is_refused(shop: Shop) -> None:
    with IcsServer(vcalendar(HOLIDAY, WINDOWS)) as feed:
        _feed_shop(shop, feed.url)
        assert shop.sync().converged
        feed.set(vcalendar())
        calls = shop.calls()
        health = shop.sync()
        assert not health.converged
        assert any("suddenly reads empty" in r for r in health.reasons)
        assert shop.calls() == calls
        assert sum(1 for e in _events(shop).values() if e["status"] != "cancelled") == 2
        health = shop.sync(allow_empty=True)
        assert health.converged, health.reasons
        assert all(e["status"] == "cancelled" for e in _events(shop).values())


def test_unparseable_item_is_reported_and_leaves_google_alone(shop: Shop) -> None:
    broken = lines("BEGIN:VEVENT", "UID:broken@example.com", "SUMMARY:no start", "END:VEVENT")
    with IcsServer(vcalendar(HOLIDAY, broken)) as feed:
        _feed_shop(shop, feed.url)
        health = shop.sync()
        assert not health.converged
        assert any("no DTSTART" in r for r in health.reasons)
        assert any(e["summary"] == "Christmas" for e in _events(shop).values())


def test_invalid_caldav_sync_token_means_a_full_resync_without_google_calls(shop: Shop) -> None:
    shop.put(record("a"), record("b"))
    assert shop.sync().converged
    m = shop.mirror()
    m.status.set_calendar("user:chris", sync_token="http://example.com/not-a-token", ctag=None)
    calls = shop.calls()
    assert shop.sync().converged
    assert shop.calls() == calls
    row = m.status.calendar("user:chris")
    assert row is not None and row.sync_token and "not-a-token" not in row.sync_token
    # And it is incremental again afterwards: a change costs one call.
    shop.put(record("a", title="new"))
    assert shop.sync().converged and shop.calls() == calls + 1


def test_unreachable_source_is_reported_in_plain_words(shop: Shop) -> None:
    shop.reconfigure("[mirror:gone]\nsource = http://127.0.0.1:9/nothing.ics\n")
    health = shop.sync()
    assert not health.converged
    assert any("cannot reach" in r for r in health.reasons)
