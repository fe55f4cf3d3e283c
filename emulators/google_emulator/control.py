"""The control API under ``/_emulator/`` (JSON, no OAuth): faults, inspection, time, resets.

Google never uses this prefix. Endpoints:

- ``GET /_emulator/`` health and this list; ``POST /_emulator/reset`` back to the settings' state
- ``GET /_emulator/snapshot`` calendars (ACL, every event incl. cancelled ones) and lists
- ``GET|DELETE /_emulator/counters`` calls per account/method/status, e-mails that would be sent
- ``GET /_emulator/requests?limit=N`` the latest calls, oldest first
- ``GET|POST|DELETE /_emulator/faults``, ``DELETE /_emulator/faults/{id}`` (see ``faults``)
- ``GET|POST /_emulator/accounts``; ``POST /_emulator/accounts/{email}/quota_exceeded``
  ``{"on": true}`` (every write of that account answers 403 ``quotaExceeded``)
- ``POST /_emulator/oauth/tokens`` ``{"email", "scopes", "client_id"?}`` mints a grant and returns
  an authorized-user credentials dict; ``POST /_emulator/oauth/revoke_refresh_tokens`` and
  ``/_emulator/oauth/expire_access_tokens`` ``{"user"?}``
- ``GET|POST /_emulator/clock`` ``{"advance_seconds": N}``
- ``POST /_emulator/calendars/{id}/invalidate_sync_tokens``, ``.../purge_deleted``
- ``GET /_emulator/quota`` units used in the current 60 s windows
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from aiohttp import web

from google_emulator.acl import render_rule
from google_emulator.calendars import render_calendar
from google_emulator.engine import Engine
from google_emulator.event_view import Unit, render

PREFIX = "/_emulator"


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except (ValueError, json.JSONDecodeError) as exc:
        raise web.HTTPBadRequest(text="body must be JSON") from exc
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return data


def snapshot(engine: Engine, base_url: str) -> dict[str, Any]:
    store = engine.store
    calendars = []
    for cal in store.calendars.values():
        events = [
            render(Unit(rec.id, rec), cal, cal.owner, base_url)
            for rec in sorted(cal.events.values(), key=lambda r: r.order)
        ]
        cal_path = quote(cal.id, safe="")
        calendars.append(
            {
                "calendar": render_calendar(cal),
                "owner": cal.owner,
                "created_by_client": cal.created_by_client,
                "acl": [render_rule(r) for r in cal.acl.values() if not r.deleted],
                "events": events,
                "public_ical": f"{base_url}/calendar/ical/{cal_path}/public/basic.ics",
                "private_ical": f"{base_url}/calendar/ical/{cal_path}/private-{cal.ical_secret}"
                "/basic.ics",
            }
        )
    return {
        "accounts": [
            {"email": a.email, "time_zone": a.time_zone, "quota_exceeded": a.quota_exceeded}
            for a in store.accounts.values()
        ],
        "calendars": calendars,
        "calendar_lists": {
            email: [e.calendar_id for e in entries.values() if not e.deleted]
            for email, entries in store.lists.items()
        },
        "invitations_sent": dict(store.invitations),
        "sharing_notifications_sent": dict(store.sharing_notifications),
    }


def setup(app: web.Application, engine: Engine) -> None:
    """Register the control routes on ``app``."""

    def base(request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"

    async def index(request: web.Request) -> web.Response:
        return _json({"ok": True, "doc": __doc__})

    async def reset(request: web.Request) -> web.Response:
        engine.reset()
        return _json({"ok": True})

    async def get_snapshot(request: web.Request) -> web.Response:
        return _json(snapshot(engine, base(request)))

    async def counters(request: web.Request) -> web.Response:
        if request.method == "DELETE":
            engine.counters.reset()
            engine.store.invitations.clear()
            engine.store.sharing_notifications.clear()
            return _json({"ok": True})
        return _json(
            engine.counters.as_json(engine.store.invitations, engine.store.sharing_notifications)
        )

    async def requests_log(request: web.Request) -> web.Response:
        limit = int(request.query.get("limit", "1000"))
        return _json({"requests": list(engine.counters.log)[-limit:]})

    async def faults(request: web.Request) -> web.Response:
        if request.method == "POST":
            try:
                rule = engine.faults.add(await _body(request))
            except (ValueError, TypeError) as exc:
                return _json({"error": str(exc)}, 400)
            return _json(rule.as_json())
        if request.method == "DELETE":
            engine.faults.clear()
            return _json({"ok": True})
        return _json({"faults": [r.as_json() for r in engine.faults.rules]})

    async def fault_delete(request: web.Request) -> web.Response:
        wanted = int(request.match_info["id"])
        engine.faults.rules = [r for r in engine.faults.rules if r.id != wanted]
        return _json({"ok": True})

    async def accounts(request: web.Request) -> web.Response:
        if request.method == "POST":
            data = await _body(request)
            account = engine.store.add_account(
                str(data["email"]),
                str(data.get("time_zone", "UTC")),
                str(data.get("display_name", "")),
            )
            return _json({"email": account.email})
        return _json({"accounts": sorted(engine.store.accounts)})

    async def quota_exceeded(request: web.Request) -> web.Response:
        account = engine.store.account(request.match_info["email"])
        if account is None:
            raise web.HTTPNotFound(text="unknown account")
        account.quota_exceeded = bool((await _body(request)).get("on", True))
        return _json({"email": account.email, "quota_exceeded": account.quota_exceeded})

    async def mint(request: web.Request) -> web.Response:
        data = await _body(request)
        client = (
            engine.settings.client(str(data["client_id"]))
            if data.get("client_id")
            else engine.settings.clients[0]
        )
        if client is None:
            return _json({"error": "unknown client"}, 400)
        email = str(data["email"]).lower()
        engine.store.add_account(email)
        scopes = [str(s) for s in data.get("scopes", ["https://www.googleapis.com/auth/calendar"])]
        grant = engine.oauth.upsert_grant(email, client.client_id, scopes)
        access = engine.oauth.issue_access(grant, scopes)
        refresh = engine.oauth.issue_refresh(grant)
        return _json(
            {
                "type": "authorized_user",
                "client_id": client.client_id,
                "client_secret": client.client_secret,
                "refresh_token": refresh.token,
                "access_token": access.token,
                "token_uri": base(request) + "/token",
                "scopes": scopes,
                "expires_in": engine.settings.access_token_lifetime_s,
            }
        )

    async def revoke_refresh(request: web.Request) -> web.Response:
        user = (await _body(request)).get("user")
        count = engine.oauth.revoke_refresh_tokens(str(user).lower() if user else None)
        return _json({"revoked": count})

    async def expire_access(request: web.Request) -> web.Response:
        user = (await _body(request)).get("user")
        count = engine.oauth.expire_access_tokens(str(user).lower() if user else None)
        return _json({"expired": count})

    async def clock(request: web.Request) -> web.Response:
        if request.method == "POST":
            engine.clock.advance(float((await _body(request)).get("advance_seconds", 0)))
        return _json({"now": engine.clock.now(), "offset": engine.clock.offset})

    async def invalidate(request: web.Request) -> web.Response:
        cal = engine.store.calendars.get(request.match_info["calendar"])
        if cal is None:
            raise web.HTTPNotFound(text="unknown calendar")
        cal.purged_seq = engine.store.next_seq()
        return _json({"ok": True})

    async def purge(request: web.Request) -> web.Response:
        cal = engine.store.calendars.get(request.match_info["calendar"])
        if cal is None:
            raise web.HTTPNotFound(text="unknown calendar")
        purged = [k for k, rec in cal.events.items() if rec.status == "cancelled"]
        for key in purged:
            del cal.events[key]
        cal.purged_seq = engine.store.next_seq()
        cal.deleted_after = engine.clock.now()
        return _json({"purged": purged})

    async def quota(request: web.Request) -> web.Response:
        now = engine.clock.now()
        return _json(
            {
                "project": engine.quota.project.used(now),
                "users": {u: w.used(now) for u, w in engine.quota.users.items()},
            }
        )

    r = app.router
    r.add_get(PREFIX + "/", index)
    r.add_post(PREFIX + "/reset", reset)
    r.add_get(PREFIX + "/snapshot", get_snapshot)
    r.add_route("*", PREFIX + "/counters", counters)
    r.add_get(PREFIX + "/requests", requests_log)
    r.add_route("*", PREFIX + "/faults", faults)
    r.add_delete(PREFIX + "/faults/{id:\\d+}", fault_delete)
    r.add_route("*", PREFIX + "/accounts", accounts)
    r.add_post(PREFIX + "/accounts/{email}/quota_exceeded", quota_exceeded)
    r.add_post(PREFIX + "/oauth/tokens", mint)
    r.add_post(PREFIX + "/oauth/revoke_refresh_tokens", revoke_refresh)
    r.add_post(PREFIX + "/oauth/expire_access_tokens", expire_access)
    r.add_route("*", PREFIX + "/clock", clock)
    r.add_post(PREFIX + "/calendars/{calendar}/invalidate_sync_tokens", invalidate)
    r.add_post(PREFIX + "/calendars/{calendar}/purge_deleted", purge)
    r.add_get(PREFIX + "/quota", quota)
