"""Handlers for ``calendars`` (secondary calendars' metadata) and the ``primary`` alias.

The primary calendar's id is the account's email. ``calendars.insert`` makes the caller the data
owner, adds the calendar to their calendar list and gives them the ``user:<email>`` owner rule.
"""

from __future__ import annotations

from typing import Any

from google_emulator import errors
from google_emulator.api import Ctx, Result, calendar_of, route
from google_emulator.model import CalendarRec
from google_emulator.times import zone

JSON = dict[str, Any]


def etag(seq: int) -> str:
    return f'"{seq}"'


def render_calendar(cal: CalendarRec) -> JSON:
    body: JSON = {
        "kind": "calendar#calendar",
        "etag": etag(cal.seq),
        "id": cal.id,
        "summary": cal.summary,
        "timeZone": cal.time_zone,
        "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
    }
    if cal.description is not None:
        body["description"] = cal.description
    if cal.location is not None:
        body["location"] = cal.location
    if not cal.primary:
        body["dataOwner"] = cal.owner
    return body


def _time_zone(value: Any, default: str) -> str:
    if value is None:
        return default
    if not isinstance(value, str) or zone(value) is None:
        raise errors.invalid("Invalid time zone definition.", location="timeZone")
    return value


def _text(body: JSON, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise errors.invalid(location=key)
    return value


def insert(ctx: Ctx) -> Result:
    body = ctx.body()
    summary = _text(body, "summary")
    if not summary:
        raise errors.required("Missing summary.", location="summary")
    cal = ctx.engine.store.create_calendar(
        ctx.email,
        summary,
        _time_zone(body.get("timeZone"), ctx.user.time_zone),
        description=_text(body, "description"),
        location=_text(body, "location"),
        client_id=ctx.token.client_id,
    )
    return Result(200, render_calendar(cal))


def get(ctx: Ctx) -> Result:
    return Result(200, render_calendar(calendar_of(ctx, "reader")))


def _write(ctx: Ctx, *, full: bool) -> Result:
    cal: CalendarRec = calendar_of(ctx, "owner")
    body = ctx.body()
    if full or "summary" in body:
        summary = _text(body, "summary")
        if not summary:
            raise errors.required("Missing summary.", location="summary")
        cal.summary = summary
    for key in ("description", "location"):
        if full or key in body:
            setattr(cal, key, _text(body, key))
    if "timeZone" in body:
        cal.time_zone = _time_zone(body["timeZone"], cal.time_zone)
    ctx.engine.store.touch(cal)
    return Result(200, render_calendar(cal))


def update(ctx: Ctx) -> Result:
    return _write(ctx, full=True)


def patch(ctx: Ctx) -> Result:
    return _write(ctx, full=False)


def delete(ctx: Ctx) -> Result:
    cal: CalendarRec = calendar_of(ctx, "owner")
    if cal.primary:
        raise errors.ApiError(400, "cannotDeletePrimaryCalendar", "Cannot delete primary calendar.")
    ctx.engine.store.delete_calendar(cal)
    return Result(204)


def clear(ctx: Ctx) -> Result:
    cal: CalendarRec = calendar_of(ctx, "owner")
    if not cal.primary:
        # calendars.clear is documented for primary calendars only.
        raise errors.bad_request("Clearing is supported for primary calendars only.")
    store = ctx.engine.store
    now = store.clock.now()
    for rec in cal.events.values():
        if rec.status != "cancelled":
            rec.status = "cancelled"
            rec.updated = now
            rec.seq = store.next_seq()
    return Result(204)


_R = ("calendar", "calendar.app.created", "calendar.calendars")
_RO = (*_R, "calendar.calendars.readonly", "calendar.readonly")
_PATH = "calendars/{calendarId}"

ROUTES = [
    route("POST", "calendars", "calendar.calendars.insert", insert, _R, write=True),
    route("GET", _PATH, "calendar.calendars.get", get, _RO, write=False),
    route("PUT", _PATH, "calendar.calendars.update", update, _R, write=True),
    route("PATCH", _PATH, "calendar.calendars.patch", patch, _R, write=True, cost=3),
    route("DELETE", _PATH, "calendar.calendars.delete", delete, _R, write=True),
    route(
        "POST",
        _PATH + "/clear",
        "calendar.calendars.clear",
        clear,
        ("calendar", "calendar.calendars"),
        write=True,
    ),
]
