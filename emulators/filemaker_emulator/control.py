"""The control API under ``/_emulator/``: what tests and benches do to the "server" directly.

- ``POST reset``: the files empty again, no sessions, no faults, counters zero;
- ``GET stats`` / ``POST stats/reset``: Data API requests counted per method and path, and
  ``total``; live sessions;
- ``POST clock`` ``{"advance": seconds}``: move the clock (idle sessions, modification stamps);
- ``POST sessions/expire``: every token dies (the next call answers 952);
- ``GET|POST|DELETE faults``: list, add (see faults.py), clear fault rules;
- ``POST databases/{db}/tables/{table}/records`` ``{"records": [{field: value, "portalData":
  {TO: [{field: value}]}}], "dateformats": 0}``: the bulk loader, one call for many records;
- ``POST databases/{db}/tables/{table}/delete`` ``{"recordIds": [...]}`` or ``{"all": true}``;
- ``PUT databases/{db}/accounts/{user}`` ``{"password": ...}``: add an account or change one;
- ``PUT databases/{db}/layouts/{layout}`` ``{"fields": [...]}``: change what a layout shows;
- ``DELETE databases/{db}/layouts/{layout}``: the layout is gone (105 from then on).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from filemaker_emulator.errors import FmError
from filemaker_emulator.state import State
from filemaker_emulator.values import date_format

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError:
        raise web.HTTPBadRequest(text="the body must be JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="the body must be a JSON object")
    return body


def setup(app: web.Application, state: State) -> None:
    def guarded(handler: Handler) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except FmError as exc:
                return _json({"code": exc.code, "message": exc.message}, 400)
            except (ValueError, KeyError, TypeError) as exc:
                return _json({"error": str(exc)}, 400)

        return wrapped

    async def reset(request: web.Request) -> web.StreamResponse:
        state.reset()
        return _json({"ok": True})

    async def stats(request: web.Request) -> web.StreamResponse:
        return _json({"requests": dict(state.requests), "sessions": state.sessions.count()})

    async def stats_reset(request: web.Request) -> web.StreamResponse:
        state.requests.clear()
        return _json({"ok": True})

    async def clock(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        state.clock.advance(float(body.get("advance", 0)))
        return _json({"now": state.clock.now()})

    async def expire(request: web.Request) -> web.StreamResponse:
        return _json({"expired": state.sessions.expire_all()})

    async def faults_list(request: web.Request) -> web.StreamResponse:
        return _json({"rules": [r.as_json() for r in state.faults.rules]})

    async def faults_add(request: web.Request) -> web.StreamResponse:
        return _json(state.faults.add(await _body(request)).as_json())

    async def faults_clear(request: web.Request) -> web.StreamResponse:
        state.faults.clear()
        return _json({"ok": True})

    async def load(request: web.Request) -> web.StreamResponse:
        db = state.database(request.match_info["db"])
        body = await _body(request)
        rows = body.get("records")
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ValueError("records must be an array of objects")
        ids = db.load(request.match_info["table"], rows, date_format(body.get("dateformats")))
        return _json({"count": len(ids), "recordIds": ids})

    async def delete(request: web.Request) -> web.StreamResponse:
        db = state.database(request.match_info["db"])
        table = db.table(request.match_info["table"]).name
        body = await _body(request)
        records = db.records[table]
        ids = list(records) if body.get("all") else [int(i) for i in body.get("recordIds", [])]
        gone = [i for i in ids if records.pop(i, None) is not None]
        db.version += 1
        return _json({"deleted": len(gone)})

    async def account(request: web.Request) -> web.StreamResponse:
        db = state.database(request.match_info["db"])
        password = (await _body(request)).get("password")
        if not isinstance(password, str):
            raise ValueError("password must be a string")
        db.accounts[request.match_info["user"]] = password
        return _json({"ok": True})

    async def layout_put(request: web.Request) -> web.StreamResponse:
        db = state.database(request.match_info["db"])
        layout = db.layout(request.match_info["layout"])
        fields = (await _body(request)).get("fields")

        def known(name: object) -> bool:
            if not isinstance(name, str):
                return False
            related, _, field_name = name.rpartition("::")
            return db.table(related or layout.table).field(field_name) is not None

        if not isinstance(fields, list) or not all(known(f) for f in fields):
            raise ValueError("fields must list fields of the layout's table, or Table::Field")
        db.layouts[layout.name] = dataclasses.replace(layout, fields=tuple(fields))
        return _json({"ok": True})

    async def layout_delete(request: web.Request) -> web.StreamResponse:
        db = state.database(request.match_info["db"])
        db.layouts.pop(db.layout(request.match_info["layout"]).name)
        return _json({"ok": True})

    r = app.router
    base = "/_emulator"
    r.add_post(f"{base}/reset", guarded(reset))
    r.add_get(f"{base}/stats", guarded(stats))
    r.add_post(f"{base}/stats/reset", guarded(stats_reset))
    r.add_post(f"{base}/clock", guarded(clock))
    r.add_post(f"{base}/sessions/expire", guarded(expire))
    r.add_get(f"{base}/faults", guarded(faults_list))
    r.add_post(f"{base}/faults", guarded(faults_add))
    r.add_delete(f"{base}/faults", guarded(faults_clear))
    r.add_post(f"{base}/databases/{{db}}/tables/{{table}}/records", guarded(load))
    r.add_post(f"{base}/databases/{{db}}/tables/{{table}}/delete", guarded(delete))
    r.add_put(f"{base}/databases/{{db}}/accounts/{{user}}", guarded(account))
    r.add_put(f"{base}/databases/{{db}}/layouts/{{layout}}", guarded(layout_put))
    r.add_delete(f"{base}/databases/{{db}}/layouts/{{layout}}", guarded(layout_delete))
