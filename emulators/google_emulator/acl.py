"""Handlers for ``calendars/{calendarId}/acl``: sharing rules.

Rule ids are formed as Google forms them: ``user:<email>``, ``group:<email>``,
``domain:<domain>``, ``default`` (the public scope). Only owners read or change ACLs (writers may
read them, per the ``writer`` role description). Inserting a rule for a scope that already has one
replaces its role (the emulator's reading of Google's behaviour; the reference is silent). Deleted
rules are kept as ``role: none`` for ``showDeleted`` and sync tokens, as the reference describes.
``sendNotifications`` (default true) counts one sharing e-mail per ``user``/``group`` rule created
or changed; removing access sends none. The data owner's own rule cannot be changed.
"""

from __future__ import annotations

from typing import Any

from google_emulator import cursor, errors
from google_emulator.api import (
    Ctx,
    Result,
    calendar_of,
    page_token,
    route,
    sync_position,
    sync_token,
)
from google_emulator.model import AclRuleRec, CalendarRec

JSON = dict[str, Any]
_ROLES = ("none", "freeBusyReader", "reader", "writer", "owner")
_TYPES = ("default", "user", "group", "domain")


def render_rule(rule: AclRuleRec) -> JSON:
    scope: JSON = {"type": rule.scope_type}
    if rule.scope_value is not None:
        scope["value"] = rule.scope_value
    return {
        "kind": "calendar#aclRule",
        "etag": f'"{rule.seq}"',
        "id": rule.id,
        "scope": scope,
        "role": "none" if rule.deleted else rule.role,
    }


def _scope(body: JSON) -> tuple[str, str | None]:
    scope = body.get("scope")
    if not isinstance(scope, dict) or not scope.get("type"):
        raise errors.required("Missing scope.", location="scope")
    kind = scope["type"]
    if kind not in _TYPES:
        raise errors.invalid("Invalid scope type.", location="scope.type")
    value = scope.get("value")
    if kind == "default":
        return kind, None
    if not isinstance(value, str) or not value:
        raise errors.required("Missing scope value.", location="scope.value")
    if kind in ("user", "group") and "@" not in value:
        raise errors.invalid("Invalid scope value.", location="scope.value")
    return kind, value.lower()


def _role(body: JSON) -> str:
    role = body.get("role")
    if role is None:
        raise errors.required("Missing role.", location="role")
    if role not in _ROLES:
        raise errors.invalid(f"Invalid value for: {role} is not a valid value", location="role")
    return str(role)


def _notify(ctx: Ctx, rule: AclRuleRec) -> None:
    if (
        rule.scope_type in ("user", "group")
        and rule.role != "none"
        and ctx.q_bool("sendNotifications", True)
    ):
        store = ctx.engine.store
        store.sharing_notifications[ctx.email] = store.sharing_notifications.get(ctx.email, 0) + 1


def _guard_owner(cal: CalendarRec, rule_id: str) -> None:
    if rule_id == f"user:{cal.owner}":
        raise errors.ApiError(
            403, "cannotChangeOwnAcl", "Cannot change your own access level.", domain="calendar"
        )


def insert(ctx: Ctx) -> Result:
    cal: CalendarRec = calendar_of(ctx, "owner")
    body = ctx.body()
    kind, value = _scope(body)
    role = _role(body)
    rule_id = "default" if kind == "default" else f"{kind}:{value}"
    _guard_owner(cal, rule_id)
    rule = AclRuleRec(rule_id, kind, value, role, ctx.engine.store.next_seq())
    cal.acl[rule_id] = rule
    _notify(ctx, rule)
    return Result(200, render_rule(rule))


def _existing(ctx: Ctx, level: str) -> tuple[CalendarRec, AclRuleRec]:
    cal: CalendarRec = calendar_of(ctx, level)
    rule = cal.acl.get(ctx.params["ruleId"])
    if rule is None or rule.deleted:
        raise errors.not_found()
    return cal, rule


def get(ctx: Ctx) -> Result:
    _, rule = _existing(ctx, "writer")
    return Result(200, render_rule(rule))


def _write(ctx: Ctx, *, full: bool) -> Result:
    cal, rule = _existing(ctx, "owner")
    body = ctx.body()
    _guard_owner(cal, rule.id)
    if "scope" in body:
        kind, value = _scope(body)
        if (kind, value) != (rule.scope_type, rule.scope_value):
            raise errors.invalid("The scope of a rule cannot be changed.", location="scope")
    if full or "role" in body:
        rule.role = _role(body)
    rule.seq = ctx.engine.store.next_seq()
    _notify(ctx, rule)
    return Result(200, render_rule(rule))


def update(ctx: Ctx) -> Result:
    return _write(ctx, full=True)


def patch(ctx: Ctx) -> Result:
    return _write(ctx, full=False)


def delete(ctx: Ctx) -> Result:
    cal, rule = _existing(ctx, "owner")
    _guard_owner(cal, rule.id)
    rule.deleted = True
    rule.seq = ctx.engine.store.next_seq()
    return Result(204)


def list_rules(ctx: Ctx) -> Result:
    cal: CalendarRec = calendar_of(ctx, "writer")
    store = ctx.engine.store
    sync = ctx.q("syncToken")
    show_deleted = ctx.q_bool("showDeleted") or bool(sync)
    size = ctx.q_int("maxResults", 100, 1, 250)
    scope = {"k": "a", "c": cal.id}
    since = sync_position(ctx, scope)
    fingerprint, page = page_token(ctx)
    start, snapshot = (int(page["i"]), int(page["s"])) if page else (0, store.seq)
    chosen = [
        (index, rule)
        for index, rule in enumerate(cal.acl.values())
        if index >= start and rule.seq > since and (show_deleted or not rule.deleted)
    ]
    items = chosen[:size]
    body: JSON = {
        "kind": "calendar#acl",
        "etag": f'"{snapshot}"',
        "items": [render_rule(rule) for _, rule in items],
    }
    if len(chosen) > size:
        body["nextPageToken"] = cursor.encode(
            store.secret, {"i": items[-1][0] + 1, "s": snapshot, "h": fingerprint}
        )
    else:
        body["nextSyncToken"] = sync_token(ctx, scope, snapshot)
    return Result(200, body)


_W = ("calendar", "calendar.acls")
_PATH = "calendars/{calendarId}/acl"
_ONE = _PATH + "/{ruleId}"

ROUTES = [
    route(
        "GET", _PATH, "calendar.acl.list", list_rules, (*_W, "calendar.acls.readonly"), write=False
    ),
    route(
        "GET",
        _ONE,
        "calendar.acl.get",
        get,
        (*_W, "calendar.acls.readonly", "calendar.readonly"),
        write=False,
    ),
    route("POST", _PATH, "calendar.acl.insert", insert, _W, write=True),
    route("PUT", _ONE, "calendar.acl.update", update, _W, write=True),
    route("PATCH", _ONE, "calendar.acl.patch", patch, _W, write=True, cost=3),
    route("DELETE", _ONE, "calendar.acl.delete", delete, _W, write=True),
]
