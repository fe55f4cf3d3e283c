"""How events look on the wire, including instances of recurring events.

A *unit* is one item an ``events.list`` can return: a stored event (single, series or instance
exception) or, with ``singleEvents=true``, a virtual instance computed from its series. Deleted
events keep their details on the owner's calendar, but incremental results without
``showDeleted`` carry only the guaranteed fields (``id``, ``status``; plus ``recurringEventId`` and
``originalStartTime`` for cancelled instances), as the ``status`` field documentation says.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from google_emulator import recurrence
from google_emulator.event_body import edt_value
from google_emulator.model import CalendarRec, EventRec
from google_emulator.times import day_start, format_in_zone, format_ts, zone

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Unit:
    id: str
    rec: EventRec
    #: Start of the instance for a virtual instance of ``rec`` (a series), else ``None``.
    original: date | datetime | None = None

    @property
    def seq(self) -> int:
        return self.rec.seq

    @property
    def status(self) -> str:
        return self.rec.status


def etag(rec: EventRec) -> str:
    return f'"{rec.seq}"'


def html_link(base_url: str, event_id: str, cal: CalendarRec) -> str:
    eid = base64.urlsafe_b64encode(f"{event_id} {cal.id}".encode()).decode().rstrip("=")
    return f"{base_url}/calendar/event?eid={eid}"


def _edt_out(edt: JSON, cal: CalendarRec, tz_override: str | None) -> JSON:
    if "date" in edt:
        return dict(edt)
    shown = zone(edt.get("timeZone") or tz_override or cal.time_zone) or ZoneInfo("UTC")
    value = edt_value(edt, cal.time_zone)
    assert isinstance(value, datetime)
    out: JSON = {"dateTime": format_in_zone(value, shown)}
    if edt.get("timeZone"):
        out["timeZone"] = edt["timeZone"]
    return out


def span(unit: Unit, cal: CalendarRec) -> tuple[datetime, datetime]:
    """The unit's [start, end) as aware instants (all-day days start at the calendar's midnight)."""
    tz = zone(cal.time_zone) or ZoneInfo("UTC")
    body = unit.rec.body
    first, last = edt_value(body["start"], cal.time_zone), edt_value(body["end"], cal.time_zone)
    if unit.original is not None:
        shift = recurrence.duration(body, cal.time_zone)
        if isinstance(unit.original, datetime):
            return unit.original, unit.original + shift
        return day_start(unit.original, tz), day_start(unit.original + shift, tz)
    if isinstance(first, datetime) and isinstance(last, datetime):
        return first, last
    assert not isinstance(first, datetime) and not isinstance(last, datetime)
    return day_start(first, tz), day_start(last, tz)


def _instance_times(
    rec: EventRec, original: date | datetime, cal: CalendarRec
) -> tuple[JSON, JSON]:
    shift = recurrence.duration(rec.body, cal.time_zone)
    tz_name = rec.body["start"].get("timeZone")
    if isinstance(original, datetime):
        start: JSON = {"dateTime": original.isoformat()}
        end: JSON = {"dateTime": (original + shift).isoformat()}
        if tz_name:
            start["timeZone"] = end["timeZone"] = tz_name
        return start, end
    return {"date": original.isoformat()}, {
        "date": (original + timedelta(days=shift.days)).isoformat()
    }


def render(
    unit: Unit,
    cal: CalendarRec,
    viewer: str,
    base_url: str,
    *,
    tz_override: str | None = None,
    minimal: bool = False,
) -> JSON:
    rec = unit.rec
    body = dict(rec.body)
    out: JSON = {"kind": "calendar#event", "etag": etag(rec), "id": unit.id, "status": rec.status}
    recurring_id = rec.recurring_event_id
    if unit.original is not None:
        recurring_id = rec.id
        body.pop("recurrence", None)
        body["start"], body["end"] = _instance_times(rec, unit.original, cal)
        body["originalStartTime"] = recurrence.original_edt(rec.body, unit.original)
    if minimal and rec.status == "cancelled":
        if recurring_id:
            out["recurringEventId"] = recurring_id
            out["originalStartTime"] = _edt_out(body["originalStartTime"], cal, tz_override)
        return out
    out["htmlLink"] = html_link(base_url, unit.id, cal)
    out["created"] = format_ts(rec.created)
    out["updated"] = format_ts(rec.updated)
    for key in ("summary", "description", "location", "colorId"):
        if key in body:
            out[key] = body[key]
    out["creator"] = {"email": rec.creator, **({"self": True} if rec.creator == viewer else {})}
    organizer: JSON = {"email": cal.id}
    if not cal.primary:
        organizer["displayName"] = cal.summary
    if viewer == cal.owner:
        organizer["self"] = True
    out["organizer"] = organizer
    out["start"] = _edt_out(body["start"], cal, tz_override)
    out["end"] = _edt_out(body["end"], cal, tz_override)
    if body.get("endTimeUnspecified"):
        out["endTimeUnspecified"] = True
    if body.get("recurrence"):
        out["recurrence"] = list(body["recurrence"])
    if recurring_id:
        out["recurringEventId"] = recurring_id
        out["originalStartTime"] = _edt_out(body["originalStartTime"], cal, tz_override)
    for key in ("transparency", "visibility"):
        if key in body:
            out[key] = body[key]
    out["iCalUID"] = rec.ical_uid
    out["sequence"] = rec.sequence
    for key in (
        "attendees",
        "extendedProperties",
        "guestsCanInviteOthers",
        "guestsCanModify",
        "guestsCanSeeOtherGuests",
        "anyoneCanAddSelf",
        "source",
        "privateCopy",
        "locked",
        "attachments",
    ):
        if key in body:
            out[key] = body[key]
    out["reminders"] = body.get("reminders", {"useDefault": True})
    out["eventType"] = "default"
    return out
