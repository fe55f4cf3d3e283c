"""Handlers for ``users/me/calendarList``: each account's list of calendars and its settings.

Sync tokens follow the reference: only changes of the entry itself (not of the calendar's
metadata or ACL) make an entry reappear; removed entries always come back with
``deleted: true``; ``minAccessRole`` cannot be combined with ``syncToken``.
"""

from __future__ import annotations

from typing import Any

from google_emulator import cursor, errors
from google_emulator.api import (
    APP_CREATED,
    Ctx,
    Result,
    page_token,
    route,
    sync_position,
    sync_token,
)
from google_emulator.calendars import etag
from google_emulator.model import ROLE_RANK, CalendarRec, ListEntryRec

JSON = dict[str, Any]
_DEFAULT_COLOR = ("14", "#9fe1e7", "#000000")


def render_entry(entry: ListEntryRec, cal: CalendarRec | None, role: str) -> JSON:
    body: JSON = {
        "kind": "calendar#calendarListEntry",
        "etag": etag(entry.seq),
        "id": entry.calendar_id,
    }
    if entry.deleted or cal is None:
        body["deleted"] = True
        return body
    body.update(
        {
            "summary": cal.summary,
            "timeZone": cal.time_zone,
            "colorId": entry.color_id or _DEFAULT_COLOR[0],
            "backgroundColor": entry.background_color or _DEFAULT_COLOR[1],
            "foregroundColor": entry.foreground_color or _DEFAULT_COLOR[2],
            "selected": entry.selected,
            "accessRole": role,
            "defaultReminders": entry.default_reminders,
            "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
        }
    )
    for key, value in (
        ("description", cal.description),
        ("location", cal.location),
        ("summaryOverride", entry.summary_override),
        ("notificationSettings", entry.notification_settings),
    ):
        if value is not None:
            body[key] = value
    if entry.hidden:
        body["hidden"] = True
    if cal.primary:
        body["primary"] = True
    else:
        body["dataOwner"] = cal.owner
    return body


def _visible(ctx: Ctx, cal: CalendarRec | None) -> bool:
    if cal is None:
        return True
    granted = set(ctx.token.scopes) & ctx.route.scopes
    return granted != {APP_CREATED} or cal.created_by_client == ctx.token.client_id


def list_entries(ctx: Ctx) -> Result:
    store = ctx.engine.store
    sync = ctx.q("syncToken")
    min_role = ctx.q("minAccessRole")
    if min_role is not None and min_role not in ROLE_RANK:
        raise errors.invalid(location="minAccessRole")
    if sync and min_role:
        raise errors.bad_request("Sync token cannot be used with minAccessRole.")
    show_deleted = ctx.q_bool("showDeleted") or bool(sync)
    show_hidden = ctx.q_bool("showHidden") or bool(sync)
    size = ctx.q_int("maxResults", 100, 1, 250)
    scope = {"k": "l", "u": ctx.email}
    since = sync_position(ctx, scope)
    fingerprint, page = page_token(ctx)
    start, snapshot = (int(page["i"]), int(page["s"])) if page else (0, store.seq)
    entries = list(store.lists.get(ctx.email, {}).values())
    selected: list[tuple[int, JSON]] = []
    for index, entry in enumerate(entries):
        if index < start or entry.seq <= since:
            continue
        cal = store.calendars.get(entry.calendar_id)
        if not _visible(ctx, cal):
            continue
        role = store.role(ctx.email, cal) if cal is not None else "none"
        if entry.deleted or cal is None or role == "none":
            if show_deleted:
                selected.append((index, render_entry(entry, None, "none")))
            continue
        if entry.hidden and not show_hidden:
            continue
        if min_role and ROLE_RANK[role] < ROLE_RANK[min_role]:
            continue
        selected.append((index, render_entry(entry, cal, role)))
    body: JSON = {"kind": "calendar#calendarList", "etag": etag(snapshot)}
    items = selected[:size]
    body["items"] = [item for _, item in items]
    if len(selected) > size:
        next_index = items[-1][0] + 1
        body["nextPageToken"] = cursor.encode(
            store.secret, {"i": next_index, "s": snapshot, "h": fingerprint}
        )
    else:
        body["nextSyncToken"] = sync_token(ctx, scope, snapshot)
    return Result(200, body)


def _entry(ctx: Ctx) -> tuple[ListEntryRec, CalendarRec, str]:
    store = ctx.engine.store
    cal = store.resolve(ctx.email, ctx.params["calendarId"])
    entry = store.lists.get(ctx.email, {}).get(cal.id)
    role = store.role(ctx.email, cal)
    if entry is None or entry.deleted or role == "none" or not _visible(ctx, cal):
        raise errors.not_found()
    return entry, cal, role


def get(ctx: Ctx) -> Result:
    entry, cal, role = _entry(ctx)
    return Result(200, render_entry(entry, cal, role))


def _apply(ctx: Ctx, entry: ListEntryRec, body: JSON, *, full: bool) -> None:
    rgb = ctx.q_bool("colorRgbFormat")
    fields = {
        "summaryOverride": "summary_override",
        "colorId": "color_id",
        "hidden": "hidden",
        "selected": "selected",
        "defaultReminders": "default_reminders",
        "notificationSettings": "notification_settings",
    }
    if rgb:
        # Google only takes RGB colours with colorRgbFormat=true; without it they are ignored.
        fields.update(
            {"backgroundColor": "background_color", "foregroundColor": "foreground_color"}
        )
    defaults: JSON = {"hidden": False, "selected": True, "defaultReminders": []}
    for key, attr in fields.items():
        if key in body:
            setattr(entry, attr, body[key])
        elif full:
            setattr(entry, attr, defaults.get(key))
    entry.seq = ctx.engine.store.next_seq()


def insert(ctx: Ctx) -> Result:
    store = ctx.engine.store
    body = ctx.body()
    cal_id = body.get("id")
    if not isinstance(cal_id, str) or not cal_id:
        raise errors.required("Missing calendar id.", location="id")
    cal = store.resolve(ctx.email, cal_id)
    role = store.role(ctx.email, cal)
    if role == "none":
        raise errors.not_found()
    entries = store.lists.setdefault(ctx.email, {})
    entry = entries.get(cal.id)
    if entry is None:
        entry = entries[cal.id] = ListEntryRec(cal.id, seq=store.next_seq())
    entry.deleted = False
    _apply(ctx, entry, body, full=False)
    return Result(200, render_entry(entry, cal, role))


def update(ctx: Ctx) -> Result:
    entry, cal, role = _entry(ctx)
    _apply(ctx, entry, ctx.body(), full=True)
    return Result(200, render_entry(entry, cal, role))


def patch(ctx: Ctx) -> Result:
    entry, cal, role = _entry(ctx)
    _apply(ctx, entry, ctx.body(), full=False)
    return Result(200, render_entry(entry, cal, role))


def delete(ctx: Ctx) -> Result:
    entry, cal, _ = _entry(ctx)
    if cal.primary:
        raise errors.bad_request("The primary calendar cannot be removed from the list.")
    entry.deleted = True
    entry.seq = ctx.engine.store.next_seq()
    return Result(204)


_W = ("calendar", "calendar.app.created", "calendar.calendarlist")
_RO = (*_W, "calendar.calendarlist.readonly", "calendar.readonly")
_PATH = "users/me/calendarList"
_ONE = _PATH + "/{calendarId}"

ROUTES = [
    route(
        "GET",
        _PATH,
        "calendar.calendarList.list",
        list_entries,
        (
            "calendar",
            "calendar.calendarlist",
            "calendar.calendarlist.readonly",
            "calendar.readonly",
        ),
        write=False,
    ),
    route("GET", _ONE, "calendar.calendarList.get", get, _RO, write=False),
    route(
        "POST",
        _PATH,
        "calendar.calendarList.insert",
        insert,
        ("calendar", "calendar.calendarlist"),
        write=True,
    ),
    route("PUT", _ONE, "calendar.calendarList.update", update, _W, write=True),
    route("PATCH", _ONE, "calendar.calendarList.patch", patch, _W, write=True, cost=3),
    route("DELETE", _ONE, "calendar.calendarList.delete", delete, _W, write=True),
]
