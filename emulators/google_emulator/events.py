"""Handlers for single events: insert, get, update (PUT), patch, delete, and instance exceptions.

Google's rules applied here:
- a client-chosen id must be unique per calendar; a deleted event only becomes ``cancelled`` and
  keeps its id, so inserting the id again answers 409 ``duplicate``;
- ``events.get`` always returns cancelled events; deleting one again answers 410 ``deleted``;
- PUT replaces the writable fields (an omitted ``status`` means the default ``confirmed``, so a PUT
  revives a cancelled event, as does any update that sets ``status: confirmed``); PATCH merges;
- an instance of a series is addressed as ``<seriesId>_<stamp>``; writing or deleting one stores an
  exception (deleting gives a cancelled exception); ``events.insert`` with ``recurringEventId`` and
  ``originalStartTime`` also creates the exception under that id;
- ``sendUpdates`` (``all``/``externalOnly``/``none``, default none) decides whether guests would be
  e-mailed; the emulator counts those e-mails per account instead of sending them.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from google_emulator import errors, event_body, recurrence
from google_emulator.api import Ctx, Result, calendar_of, route
from google_emulator.event_view import Unit, etag, render
from google_emulator.model import CalendarRec, EventRec

JSON = dict[str, Any]
_B32HEX = "0123456789abcdefghijklmnopqrstuv"


def _new_id() -> str:
    return "".join(secrets.choice(_B32HEX) for _ in range(26))


def find(cal: CalendarRec, event_id: str) -> Unit | None:
    """A stored event, or a valid (not yet stored) instance of a stored series."""
    rec = cal.events.get(event_id)
    if rec is not None:
        return Unit(rec.id, rec)
    match = event_body.INSTANCE_RE.match(event_id)
    if not match:
        return None
    parent = cal.events.get(match["rid"])
    if parent is None or not parent.body.get("recurrence"):
        return None
    original = recurrence.parse_stamp(match["stamp"])
    if not recurrence.is_occurrence(parent.body, cal.time_zone, original):
        return None
    return Unit(event_id, parent, original)


def _send_mode(ctx: Ctx) -> str:
    mode = ctx.q("sendUpdates")
    if mode is None:
        return "all" if ctx.q_bool("sendNotifications") else "none"
    if mode not in ("all", "externalOnly", "none"):
        raise errors.invalid(
            f"Invalid value for: {mode} is not a valid value", location="sendUpdates"
        )
    return mode


def _count_mail(ctx: Ctx, cal: CalendarRec, body: JSON, mode: str) -> None:
    if mode == "none":
        return
    store = ctx.engine.store
    recipients = [
        str(a["email"]).lower()
        for a in body.get("attendees", [])
        if not a.get("self") and str(a["email"]).lower() not in (ctx.email, cal.owner, cal.id)
    ]
    if mode == "externalOnly":
        recipients = [r for r in recipients if r not in store.accounts]
    if recipients:
        store.invitations[ctx.email] = store.invitations.get(ctx.email, 0) + len(recipients)


def _check_recurrence(body: JSON, cal: CalendarRec) -> None:
    if body.get("recurrence"):
        try:
            recurrence.validate(body, cal.time_zone)
        except recurrence.RecurrenceError as exc:
            raise errors.invalid("Invalid recurrence rule.", location="recurrence") from exc


def _instance_target(cal: CalendarRec, raw: JSON) -> tuple[str, EventRec, date | datetime] | None:
    """(id, series, original start) when the insert body names an instance of a series."""
    event_id = raw.get("id")
    if isinstance(event_id, str) and (match := event_body.INSTANCE_RE.match(event_id)):
        parent = cal.events.get(match["rid"])
        original = recurrence.parse_stamp(match["stamp"])
    elif raw.get("recurringEventId") and raw.get("originalStartTime"):
        parent = cal.events.get(str(raw["recurringEventId"]))
        if parent is None:
            raise errors.not_found()
        try:
            value = event_body.edt_value(raw["originalStartTime"], cal.time_zone)
        except (ValueError, KeyError, TypeError) as exc:
            raise errors.invalid(location="originalStartTime") from exc
        original = value
        event_id = f"{parent.id}_{recurrence.stamp(original)}"
    else:
        return None
    if parent is None or not parent.body.get("recurrence"):
        raise errors.invalid("Invalid resource id value.", location="id")
    if not recurrence.is_occurrence(parent.body, cal.time_zone, original):
        raise errors.invalid("Invalid originalStartTime.", location="originalStartTime")
    return str(event_id), parent, original


def insert(ctx: Ctx) -> Result:
    cal: CalendarRec = calendar_of(ctx, "writer")
    store = ctx.engine.store
    raw = ctx.body()
    mode = _send_mode(ctx)
    target = _instance_target(cal, raw)
    parent: EventRec | None = None
    if target is not None:
        event_id, parent, original = target
    elif raw.get("id") is not None:
        event_id = event_body.check_id(raw["id"])
    else:
        event_id = _new_id()
    if event_id in cal.events:
        raise errors.duplicate()
    body = event_body.clean(raw, cal.time_zone)
    if parent is not None:
        body.pop("recurrence", None)
        body["originalStartTime"] = recurrence.original_edt(parent.body, original)
    _check_recurrence(body, cal)
    now = store.clock.now()
    ical_uid = raw.get("iCalUID") if isinstance(raw.get("iCalUID"), str) else None
    rec = EventRec(
        id=event_id,
        body=body,
        status=body["status"],
        created=now,
        updated=now,
        sequence=int(raw.get("sequence") or 0),
        seq=store.next_seq(),
        order=store.next_order(),
        ical_uid=parent.ical_uid if parent else (ical_uid or f"{event_id}@google.com"),
        creator=ctx.email,
        recurring_event_id=parent.id if parent else None,
    )
    cal.events[event_id] = rec
    _count_mail(ctx, cal, body, mode)
    return Result(200, render(Unit(rec.id, rec), cal, ctx.email, ctx.req.base_url))


def get(ctx: Ctx) -> Result:
    cal: CalendarRec = calendar_of(ctx, "reader")
    unit = find(cal, ctx.params["eventId"])
    if unit is None:
        raise errors.not_found()
    tz = ctx.q("timeZone")
    body = render(unit, cal, ctx.email, ctx.req.base_url, tz_override=tz)
    if ctx.req.headers.get("If-None-Match") == body["etag"]:
        return Result(304)
    return Result(200, body)


def _materialize(ctx: Ctx, cal: CalendarRec, unit: Unit) -> EventRec:
    """Store an instance exception for a virtual instance (as it looks now)."""
    assert unit.original is not None
    store = ctx.engine.store
    view = render(unit, cal, ctx.email, ctx.req.base_url)
    body = {k: view[k] for k in event_body.WRITABLE if k in view}
    body["status"] = unit.rec.status
    now = store.clock.now()
    rec = EventRec(
        id=unit.id,
        body=body,
        status=unit.rec.status,
        created=now,
        updated=now,
        sequence=unit.rec.sequence,
        seq=store.next_seq(),
        order=store.next_order(),
        ical_uid=unit.rec.ical_uid,
        creator=unit.rec.creator,
        recurring_event_id=unit.rec.id,
    )
    cal.events[rec.id] = rec
    return rec


def _target(ctx: Ctx) -> tuple[CalendarRec, EventRec]:
    cal: CalendarRec = calendar_of(ctx, "writer")
    unit = find(cal, ctx.params["eventId"])
    if unit is None:
        raise errors.not_found()
    if_match = ctx.req.headers.get("If-Match")
    if if_match is not None and if_match != "*" and if_match != etag(unit.rec):
        raise errors.condition_not_met()
    rec = unit.rec if unit.original is None else _materialize(ctx, cal, unit)
    return cal, rec


def _store_write(ctx: Ctx, cal: CalendarRec, rec: EventRec, merged: JSON, raw: JSON) -> Result:
    store = ctx.engine.store
    mode = _send_mode(ctx)
    body = event_body.clean(merged, cal.time_zone)
    if rec.recurring_event_id:
        body.pop("recurrence", None)
        body["originalStartTime"] = rec.body["originalStartTime"]
    _check_recurrence(body, cal)
    if "sequence" in raw and raw["sequence"] is not None:
        wanted = int(raw["sequence"])
        if wanted < rec.sequence:
            raise errors.invalid(
                "Invalid sequence value. The specified sequence number is below the current "
                "sequence number of the resource.",
                location="sequence",
            )
        rec.sequence = wanted
    elif any(body.get(k) != rec.body.get(k) for k in ("start", "end", "recurrence")):
        # Google raises the iCalendar SEQUENCE when the time of an event changes.
        rec.sequence += 1
    rec.body = body
    rec.status = body["status"]
    rec.updated = store.clock.now()
    rec.seq = store.next_seq()
    _count_mail(ctx, cal, body, mode)
    return Result(200, render(Unit(rec.id, rec), cal, ctx.email, ctx.req.base_url))


def update(ctx: Ctx) -> Result:
    cal, rec = _target(ctx)
    raw = ctx.body()
    return _store_write(ctx, cal, rec, dict(raw), raw)


def patch(ctx: Ctx) -> Result:
    cal, rec = _target(ctx)
    raw = ctx.body()
    current = dict(rec.body)
    changes = {k: raw[k] for k in event_body.WRITABLE if k in raw}
    merged = event_body.merge_patch(current, changes)
    return _store_write(ctx, cal, rec, merged, raw)


def delete(ctx: Ctx) -> Result:
    cal: CalendarRec = calendar_of(ctx, "writer")
    store = ctx.engine.store
    mode = _send_mode(ctx)
    unit = find(cal, ctx.params["eventId"])
    if unit is None:
        raise errors.not_found()
    rec = unit.rec if unit.original is None else _materialize(ctx, cal, unit)
    if rec.status == "cancelled":
        raise errors.deleted()
    now = store.clock.now()
    rec.status = rec.body["status"] = "cancelled"
    rec.updated, rec.seq = now, store.next_seq()
    if rec.body.get("recurrence"):
        for other in cal.events.values():
            if other.recurring_event_id == rec.id and other.status != "cancelled":
                other.status = other.body["status"] = "cancelled"
                other.updated, other.seq = now, store.next_seq()
    _count_mail(ctx, cal, rec.body, mode)
    return Result(204)


_W = ("calendar", "calendar.app.created", "calendar.events", "calendar.events.owned")
_RO = (
    *_W,
    "calendar.events.freebusy",
    "calendar.events.owned.readonly",
    "calendar.events.public.readonly",
    "calendar.events.readonly",
    "calendar.readonly",
)
_ONE = "calendars/{calendarId}/events/{eventId}"


def _routes() -> list[Any]:
    from google_emulator import event_list

    return [
        route(
            "GET",
            "calendars/{calendarId}/events",
            "calendar.events.list",
            event_list.list_events,
            _RO,
            write=False,
        ),
        route(
            "POST",
            "calendars/{calendarId}/events",
            "calendar.events.insert",
            insert,
            _W,
            write=True,
        ),
        route("GET", _ONE, "calendar.events.get", get, _RO, write=False),
        route("PUT", _ONE, "calendar.events.update", update, _W, write=True),
        route("PATCH", _ONE, "calendar.events.patch", patch, _W, write=True, cost=3),
        route("DELETE", _ONE, "calendar.events.delete", delete, _W, write=True),
        route(
            "GET",
            _ONE + "/instances",
            "calendar.events.instances",
            event_list.instances,
            _RO,
            write=False,
        ),
    ]


ROUTES = _routes()
