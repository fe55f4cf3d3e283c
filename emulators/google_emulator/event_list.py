"""``events.list`` and ``events.instances``: filters, paging, full and incremental sync.

From the reference and the sync guide:
- ``maxResults`` defaults to 250 and is capped at 2500; ``nextPageToken`` and ``nextSyncToken``
  exclude each other, the sync token comes on the last page only;
- cancelled events are listed only with ``showDeleted``, ``syncToken`` or ``updatedMin``, except
  that cancelled instances of a live series are listed when ``showDeleted`` and ``singleEvents``
  are both false;
- ``syncToken`` cannot be combined with ``iCalUID``, ``orderBy``, ``privateExtendedProperty``,
  ``q``, ``sharedExtendedProperty``, ``timeMin``, ``timeMax`` or ``updatedMin`` (400); an unknown
  or expired token answers 410 ``fullSyncRequired``;
- ``timeMin``/``timeMax`` need an offset; ``timeMax`` must be after ``timeMin`` (else 400
  ``timeRangeEmpty``); an event is listed when it ends after ``timeMin`` and starts before
  ``timeMax``; ``orderBy=startTime`` needs ``singleEvents=true``;
- repeated ``privateExtendedProperty`` (or ``sharedExtendedProperty``) constraints are OR'ed, the
  private and the shared sets AND'ed, as the extended-properties guide states with examples (the
  one-line parameter reference says "match all given constraints"; a client should not rely on
  either reading and use one constraint per kind).
The sync token handed out at the end of a paged listing is the store position when its first page
was served, so changes made while a client pages through are delivered again next time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from google_emulator import cursor, errors, recurrence
from google_emulator.api import (
    Ctx,
    Result,
    calendar_of,
    page_token,
    sync_position,
    sync_token,
)
from google_emulator.event_view import Unit, render, span
from google_emulator.model import CalendarRec, EventRec
from google_emulator.times import format_ts, parse_aware, zone

JSON = dict[str, Any]
_NOT_WITH_SYNC = (
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
)


def _time_arg(ctx: Ctx, name: str) -> datetime | None:
    value = ctx.q(name)
    if value is None:
        return None
    try:
        return parse_aware(value)
    except ValueError as exc:
        raise errors.bad_request(location=name) from exc


def _props(ctx: Ctx, name: str) -> list[tuple[str, str]]:
    out = []
    for item in ctx.q_all(name):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise errors.invalid(f"Invalid value for {name}: {item}", location=name)
        out.append((key, value))
    return out


def units(
    cal: CalendarRec, single: bool, until: datetime, after: datetime | None
) -> Iterator[Unit]:
    """Every listable item in the calendar's stable order (creation order, then instance start)."""
    for rec in sorted(cal.events.values(), key=lambda r: r.order):
        if not single:
            yield Unit(rec.id, rec)
            continue
        parent = cal.events.get(rec.recurring_event_id) if rec.recurring_event_id else None
        if parent is not None and parent.body.get("recurrence"):
            continue  # yielded in its series' place
        if not rec.body.get("recurrence"):
            yield Unit(rec.id, rec)
            continue
        yield from series_units(cal, rec, until, after)


def series_units(
    cal: CalendarRec, rec: EventRec, until: datetime, after: datetime | None
) -> Iterator[Unit]:
    """The instances of a series; an infinite one is cut at ``until`` (timeMax or a horizon)."""
    end = None if recurrence.is_finite(rec.body) else until
    for original in recurrence.occurrences(rec.body, cal.time_zone, until=end, after=after):
        instance_id = f"{rec.id}_{recurrence.stamp(original)}"
        exception = cal.events.get(instance_id)
        yield Unit(instance_id, exception) if exception else Unit(instance_id, rec, original)


def _overlaps(unit: Unit, cal: CalendarRec, lo: datetime | None, hi: datetime | None) -> bool:
    if lo is None and hi is None:
        return True
    if unit.original is None and unit.rec.body.get("recurrence"):
        for original in recurrence.occurrences(unit.rec.body, cal.time_zone, until=hi, after=lo):
            if _overlaps(Unit(unit.id, unit.rec, original), cal, lo, hi):
                return True
        return False
    start, end = span(unit, cal)
    return (lo is None or end > lo) and (hi is None or start < hi)


def _sort_key(unit: Unit, cal: CalendarRec, order_by: str | None) -> list[Any]:
    start = span(unit, cal)[0].timestamp()
    base = [unit.rec.order, start, unit.id]
    if order_by == "startTime":
        return [start, unit.rec.order, unit.id]
    if order_by == "updated":
        return [unit.rec.updated, *base]
    return base


def _select(ctx: Ctx, cal: CalendarRec, single: bool, series: EventRec | None) -> Result:
    store = ctx.engine.store
    sync = ctx.q("syncToken")
    if sync and any(ctx.q(name) is not None for name in _NOT_WITH_SYNC):
        raise errors.bad_request("Sync token cannot be used with other request restrictions.")
    order_by = ctx.q("orderBy")
    if order_by not in (None, "startTime", "updated"):
        raise errors.invalid(
            f"Invalid value for: {order_by} is not a valid value", location="orderBy"
        )
    if order_by == "startTime" and not single:
        raise errors.bad_request(
            "The requested ordering is not available for the particular query."
        )
    lo, hi = _time_arg(ctx, "timeMin"), _time_arg(ctx, "timeMax")
    if lo is not None and hi is not None and hi <= lo:
        raise errors.time_range_empty("timeMax")
    updated_min = _time_arg(ctx, "updatedMin")
    tz_out = ctx.q("timeZone")
    if tz_out is not None and zone(tz_out) is None:
        raise errors.invalid("Invalid time zone definition.", location="timeZone")
    size = ctx.q_int("maxResults", 250, 1, 2500)
    show_deleted = ctx.q_bool("showDeleted")
    private, shared = _props(ctx, "privateExtendedProperty"), _props(ctx, "sharedExtendedProperty")
    ical_uid, text = ctx.q("iCalUID"), (ctx.q("q") or "").lower()
    scope = {"k": "e", "c": cal.id}
    since = sync_position(ctx, scope, oldest=cal.purged_seq)
    if updated_min is not None and updated_min.timestamp() < cal.deleted_after:
        raise errors.updated_min_too_long_ago()
    incremental = bool(sync) or updated_min is not None
    fingerprint, page = page_token(ctx)
    after_key: list[Any] | None = page["k"] if page else None
    snapshot = int(page["s"]) if page else store.seq
    horizon = hi or datetime.fromtimestamp(store.clock.now(), UTC) + timedelta(
        days=ctx.engine.settings.recurrence_horizon_days
    )
    source = series_units(cal, series, horizon, lo) if series else units(cal, single, horizon, lo)
    chosen: list[tuple[list[Any], Unit]] = []
    for unit in source:
        rec = unit.rec
        if rec.seq <= since:
            continue
        if rec.status == "cancelled" and not (show_deleted or incremental):
            live_series = rec.recurring_event_id and cal.events.get(rec.recurring_event_id)
            keep = not single and live_series and live_series.status != "cancelled"
            if not keep:
                continue
        if updated_min is not None and rec.updated < updated_min.timestamp():
            continue
        if ical_uid is not None and rec.ical_uid != ical_uid:
            continue
        props = rec.body.get("extendedProperties", {})
        if private and not any(props.get("private", {}).get(k) == v for k, v in private):
            continue
        if shared and not any(props.get("shared", {}).get(k) == v for k, v in shared):
            continue
        if text and not any(
            text in str(rec.body.get(f, "")).lower() for f in ("summary", "description", "location")
        ):
            continue
        if not _overlaps(unit, cal, lo, hi):
            continue
        key = _sort_key(unit, cal, order_by)
        if after_key is not None and key <= after_key:
            continue
        chosen.append((key, unit))
    chosen.sort(key=lambda pair: pair[0])
    role = store.role(ctx.email, cal)
    last_update = max([cal.updated, *(r.updated for r in cal.events.values())])
    body: JSON = {
        "kind": "calendar#events",
        "etag": f'"{snapshot}"',
        "summary": cal.summary,
        "updated": format_ts(last_update),
        "timeZone": cal.time_zone,
        "accessRole": role,
        "defaultReminders": [],
    }
    if cal.description is not None:
        body["description"] = cal.description
    minimal = incremental and not show_deleted
    page_items = chosen[:size]
    body["items"] = [
        render(u, cal, ctx.email, ctx.req.base_url, tz_override=tz_out, minimal=minimal)
        for _, u in page_items
    ]
    if len(chosen) > size:
        token = {"k": page_items[-1][0], "s": snapshot, "h": fingerprint}
        body["nextPageToken"] = cursor.encode(store.secret, token)
    elif series is None:
        body["nextSyncToken"] = sync_token(ctx, scope, snapshot)
    return Result(200, body)


def list_events(ctx: Ctx) -> Result:
    cal: CalendarRec = calendar_of(ctx, "reader")
    return _select(ctx, cal, ctx.q_bool("singleEvents"), None)


def instances(ctx: Ctx) -> Result:
    cal: CalendarRec = calendar_of(ctx, "reader")
    series = cal.events.get(ctx.params["eventId"])
    if series is None:
        raise errors.not_found()
    if not series.body.get("recurrence"):
        raise errors.bad_request("The event is not a recurring event.")
    return _select(ctx, cal, True, series)
