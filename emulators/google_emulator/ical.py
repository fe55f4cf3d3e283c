"""The calendars' iCal addresses, as Google Calendar serves them.

``/calendar/ical/<calendarId>/public/basic.ics`` exists only for public calendars (a ``default``
ACL rule): with ``reader`` it has the full events, with ``freeBusyReader`` only busy blocks
titled "Busy". ``/calendar/ical/<calendarId>/private-<secret>/basic.ics`` is the secret address,
always served. Unknown calendars answer 404; a calendar that exists but is not public answers 403
(the emulator's choice: Google's exact answer for a private calendar is not documented).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from aiohttp import web
from icalendar import Calendar, Event, vRecur

from google_emulator import recurrence
from google_emulator.engine import Engine
from google_emulator.event_body import edt_value
from google_emulator.model import CalendarRec, EventRec
from google_emulator.times import zone


def _add_times(vevent: Event, rec: EventRec, cal: CalendarRec) -> None:
    for key, prop in (("start", "dtstart"), ("end", "dtend")):
        value = edt_value(rec.body[key], cal.time_zone)
        if isinstance(value, datetime):
            tz_name = rec.body[key].get("timeZone")
            if tz_name:
                tz = zone(tz_name)
                assert tz is not None
                value = value.astimezone(tz)
            else:
                value = value.astimezone(UTC)
        vevent.add(prop, value)


def _vevent(rec: EventRec, cal: CalendarRec, busy_only: bool) -> Event:
    vevent = Event()
    vevent.add("uid", rec.ical_uid)
    vevent.add("dtstamp", datetime.fromtimestamp(rec.updated, UTC))
    _add_times(vevent, rec, cal)
    if rec.recurring_event_id:
        original = edt_value(rec.body["originalStartTime"], cal.time_zone)
        vevent.add("recurrence-id", original)
    for line in rec.body.get("recurrence", []):
        name, _, value = line.partition(":")
        if name.upper() == "RRULE":
            vevent.add("rrule", vRecur.from_ical(value))
    if busy_only:
        vevent.add("summary", "Busy")
        return vevent
    vevent.add("created", datetime.fromtimestamp(rec.created, UTC))
    vevent.add("last-modified", datetime.fromtimestamp(rec.updated, UTC))
    vevent.add("sequence", rec.sequence)
    vevent.add("status", "TENTATIVE" if rec.status == "tentative" else "CONFIRMED")
    for key in ("summary", "description", "location"):
        if rec.body.get(key):
            vevent.add(key, rec.body[key])
    vevent.add(
        "transp", "TRANSPARENT" if rec.body.get("transparency") == "transparent" else "OPAQUE"
    )
    return vevent


def _line_values(line: str, rec: EventRec, cal: CalendarRec) -> list[date | datetime]:
    head, _, text = line.partition(":")
    params = dict(p.split("=", 1) for p in head.split(";")[1:] if "=" in p)
    tz = zone(params.get("TZID", "")) or recurrence.series_zone(rec.body, cal.time_zone)
    out: list[date | datetime] = []
    for raw in (v.strip() for v in text.split(",") if v.strip()):
        if len(raw) == 8:
            out.append(datetime.strptime(raw, "%Y%m%d").date())
        elif raw.endswith(("Z", "z")):
            out.append(datetime.strptime(raw[:-1], "%Y%m%dT%H%M%S").replace(tzinfo=UTC))
        else:
            out.append(datetime.strptime(raw, "%Y%m%dT%H%M%S").replace(tzinfo=tz))
    return out


def render_ics(cal: CalendarRec, busy_only: bool) -> bytes:
    ics = Calendar()
    ics.add("prodid", "-//Google Inc//Google Calendar 70.9054//EN")
    ics.add("version", "2.0")
    ics.add("calscale", "GREGORIAN")
    ics.add("method", "PUBLISH")
    ics.add("x-wr-calname", cal.summary)
    ics.add("x-wr-timezone", cal.time_zone)
    for rec in sorted(cal.events.values(), key=lambda r: r.order):
        if rec.status == "cancelled":
            continue
        vevent = _vevent(rec, cal, busy_only)
        raw_lines = [
            line for line in rec.body.get("recurrence", []) if not line.upper().startswith("RRULE")
        ]
        ics.add_component(vevent)
        for line in raw_lines:
            name = line.split(":", 1)[0].split(";", 1)[0].lower()
            if name in ("exdate", "rdate"):
                vevent.add(name, _line_values(line, rec, cal))
    # Cancelled instances of live series become EXDATEs of their series.
    for rec in cal.events.values():
        series = cal.events.get(rec.recurring_event_id or "")
        if rec.status == "cancelled" and series is not None and series.status != "cancelled":
            for component in ics.walk("VEVENT"):
                if component.get("uid") == series.ical_uid and "recurrence-id" not in component:
                    original = edt_value(rec.body["originalStartTime"], cal.time_zone)
                    component.add("exdate", original)
    ics.add_missing_timezones()
    data: bytes = ics.to_ical()
    return data


async def handle(request: web.Request, engine: Engine) -> web.StreamResponse:
    cal = engine.store.calendars.get(request.match_info["calendarId"])
    if cal is None:
        raise web.HTTPNotFound(text="Not Found")
    kind = request.match_info["kind"]
    rule = cal.acl.get("default")
    if kind == "public":
        if rule is None or rule.deleted or rule.role == "none":
            raise web.HTTPForbidden(text="This calendar is not public.")
        busy_only = rule.role == "freeBusyReader"
    elif kind == f"private-{cal.ical_secret}":
        busy_only = False
    else:
        raise web.HTTPNotFound(text="Not Found")
    body = render_ics(cal, busy_only)
    return web.Response(body=body, content_type="text/calendar", charset="utf-8")
