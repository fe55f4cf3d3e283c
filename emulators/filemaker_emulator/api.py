"""The Data API's paths under ``/fmi/data/{v1|v2|vLatest}/``, answered from :class:`State`.

Order of checks, as a server must: the session (Basic auth at log-in, a Bearer token after) before
anything is read; then the body (``Content-Type: application/json`` and a JSON object without
nulls, since the Data API cannot take JSON nulls); then the layout (105) and its fields (102).
Where Claris is silent the choices are: an empty or malformed body is 1708 with HTTP 400; a range
or find whose ``_offset`` lies past the found set answers 401 like an empty find.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from filemaker_emulator import records
from filemaker_emulator.database import Database
from filemaker_emulator.errors import FmError, envelope
from filemaker_emulator.state import State

VERSIONS = ("v1", "v2", "vLatest")
PRODUCT = {
    "name": "FileMaker Data API Engine",
    "buildDate": "07/01/2025",
    "version": "22.0.4.400",
    "dateFormat": "MM/dd/yyyy",
    "timeFormat": "HH:mm:ss",
    "timeStampFormat": "MM/dd/yyyy HH:mm:ss",
}


def _has_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_has_null(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_null(v) for v in value)
    return False


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise FmError(1708, "Content-Type must be application/json", status=415)
    raw = await request.read()
    try:
        body = json.loads(raw) if raw.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        body = None
    if not isinstance(body, dict):
        raise FmError(1708, "the body must be a JSON object", status=400)
    if _has_null(body):
        raise FmError(1708)
    return body


def _bearer(request: web.Request, state: State, db: str) -> Database:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise FmError(952)
    state.sessions.use(token.strip(), db)
    return state.database(db)


def _basic(request: web.Request) -> tuple[str, str]:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise FmError(212)
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise FmError(212) from None
    if not sep:
        raise FmError(212)
    return user, password


Answer = tuple[int, bytes, dict[str, str]]


async def _login(request: web.Request, state: State, db_name: str) -> Answer:
    body = await _body(request)
    if not isinstance(body.get("fmDataSource", []), list):
        raise FmError(1708, "fmDataSource must be an array")
    db = state.database(db_name)
    user, password = _basic(request)
    if db.accounts.get(user) != password:
        raise FmError(212)
    token = state.sessions.open(db_name, user)
    return 200, envelope({"token": token}), {"X-FM-Data-Access-Token": token}


def _segments(request: web.Request) -> list[str]:
    path = request.raw_path.split("?", 1)[0]
    parts = [unquote(s) for s in path.split("/")[3:]]  # after "", "fmi", "data"
    if parts and parts[-1] == "":
        parts.pop()  # python-fmrest logs in at ".../sessions/"; the server takes it
    return parts


async def dispatch(request: web.Request, state: State) -> Answer:
    """Route one Data API call; returns (status, body, headers)."""
    parts = _segments(request)
    method = request.method
    if not parts or parts[0] not in VERSIONS:
        raise FmError(1630)
    rest = parts[1:]
    if rest == ["productInfo"] and method == "GET":
        return 200, envelope({"productInfo": PRODUCT}), {}
    if len(rest) < 3 or rest[0] != "databases" or not rest[1]:
        raise FmError(1630)
    db_name, resource, tail = rest[1], rest[2], rest[3:]
    if resource == "sessions":
        if not tail and method == "POST":
            return await _login(request, state, db_name)
        if len(tail) == 1 and method == "DELETE":
            state.sessions.close(tail[0], db_name)
            return 200, envelope({}), {}
        raise FmError(1704 if len(tail) <= 1 else 1630)
    if resource != "layouts":
        raise FmError(1630)
    db = _bearer(request, state, db_name)
    if not tail:
        if method != "GET":
            raise FmError(1704)
        return 200, envelope({"layouts": [{"name": n} for n in db.layouts]}), {}
    layout = db.layout(tail[0])
    action = tail[1:]
    body: dict[str, Any] = {}
    if method in ("POST", "PATCH"):
        body = await _body(request)
    query = request.rel_url.query
    if not action and method == "GET":
        return 200, envelope(records.metadata(db, layout)), {}
    if action == ["records"] and method == "GET":
        return 200, envelope(records.get_range(db, layout, query)), {}
    if action == ["records"] and method == "POST":
        return 200, envelope(records.create(db, layout, body)), {}
    if action == ["_find"] and method == "POST":
        return 200, envelope(records.find(db, layout, body)), {}
    if len(action) == 2 and action[0] == "records":
        record_id = records.record_id(action[1])
        if method == "GET":
            return 200, envelope(records.get_one(db, layout, record_id, query)), {}
        if method == "PATCH":
            return 200, envelope(records.edit(db, layout, record_id, body)), {}
        if method == "DELETE":
            db.delete(layout, record_id)
            return 200, envelope({}), {}
    if action and action[0] in ("records", "_find"):
        raise FmError(1704)
    raise FmError(1630)
