"""The push API iPoint calls: PUT/DELETE one record, POST a batch applied atomically.

Answers: 200 with what happened; 400 for a body that is not JSON of the right shape (or JSON
beyond ``bridge.jsonin``'s bounds: NaN, huge numbers, deep nesting); 422 with every problem for
records that fail validation (``[ingest]`` limits included); 401 for a missing or wrong bearer
token; 409 for a single push older than the stored record; 413 (aiohttp) above
``[web] max_body_bytes``.
Nothing changes unless the whole request is accepted.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..errors import Problem, ValidationError
from ..jsonin import JSONInputError, loads
from ..records import ApplyResult
from ..validate import check_ids, validate_batch, validate_record
from .keys import SETTINGS, STORE

logger = logging.getLogger(__name__)
PREFIX = "/api/v1"
WEBHOOKS = PREFIX + "/filemaker/"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json_error(status: int, message: str, problems: list[Problem] | None = None) -> web.Response:
    body: dict[str, Any] = {"error": message}
    if problems is not None:
        body["problems"] = [p.as_dict() for p in problems]
    return web.json_response(body, status=status)


@web.middleware
async def bearer_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bearer token check for the API, in constant time; other paths pass through."""
    if not request.path.startswith(PREFIX + "/") or request.path.startswith(WEBHOOKS):
        # FileMaker's webhooks check their own token first thing (web/filemaker.py): a source
        # may have one that can trigger a read but not write records.
        return await handler(request)
    token = request.app[SETTINGS].web.ingest_token
    if not token:
        return _json_error(403, "the push API is disabled: set [web] ingest_token")
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        response = _json_error(401, "missing or wrong bearer token")
        response.headers["WWW-Authenticate"] = 'Bearer realm="ipoint-bridge"'
        return response
    return await handler(request)


async def _body(request: web.Request) -> Any:
    raw = await request.read()
    depth = request.app[SETTINGS].ingest.max_json_depth
    try:
        return await asyncio.to_thread(loads, raw, depth)
    except JSONInputError as exc:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"body is not accepted JSON: {exc.message}"}),
            content_type="application/json",
        ) from exc


def _result_json(result: ApplyResult) -> dict[str, Any]:
    return {
        "summary": result.summary(),
        "seq": result.seq,
        "results": [
            {"id": o.id, "result": o.result, "revision": o.revision}
            | ({"reason": o.reason} if o.reason else {})
            for o in result.outcomes
        ],
    }


async def put_event(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    path_id = request.match_info["id"]
    body = await _body(request)
    record, problems = await asyncio.to_thread(
        validate_record,
        body,
        settings.bridge.timezone,
        path_id=path_id,
        limits=settings.ingest,
    )
    if record is None:
        return _json_error(422, "the record was rejected; nothing was changed", problems)
    store = request.app[STORE]
    result = await asyncio.to_thread(store.apply, [record])
    outcome = result.outcomes[0]
    if outcome.result == "stale":
        logger.warning("ignored stale push of %s: %s", record.id, outcome.reason)
        return web.json_response(
            {"error": "ignored: " + (outcome.reason or "stale"), **_result_json(result)},
            status=409,
        )
    logger.info("push %s: %s (revision %d)", record.id, outcome.result, outcome.revision)
    return web.json_response(_result_json(result))


async def delete_event(request: web.Request) -> web.Response:
    event_id = request.match_info["id"]
    try:
        check_ids([event_id])
    except ValidationError as exc:
        return _json_error(422, "bad id", list(exc.problems))
    result = await asyncio.to_thread(request.app[STORE].apply, [], [event_id])
    logger.info("delete %s: %s", event_id, result.outcomes[0].result)
    return web.json_response(_result_json(result))


async def get_event(request: web.Request) -> web.Response:
    stored = await asyncio.to_thread(request.app[STORE].get, request.match_info["id"])
    if stored is None:
        return _json_error(404, "no such event")
    return web.json_response(
        {"record": json.loads(stored.data), "revision": stored.revision, "etag": stored.etag}
    )


async def post_batch(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    body = await _body(request)
    deletes: list[object] = []
    if isinstance(body, dict):
        events = body.get("events", [])
        deletes = body.get("deletes", [])
        unknown = set(body) - {"events", "deletes"}
        if unknown or not isinstance(events, list) or not isinstance(deletes, list):
            return _json_error(
                400, 'body must be an array of records or {"events": [...], "deletes": [ids]}'
            )
    elif isinstance(body, list):
        events = body
    else:
        return _json_error(400, "body must be an array of records")
    try:
        records = await asyncio.to_thread(
            validate_batch,
            [(None, raw) for raw in events],
            settings.bridge.timezone,
            settings.ingest,
        )
        ids = check_ids(deletes)
    except ValidationError as exc:
        return _json_error(
            422, f"{len(exc.problems)} problem(s); nothing was changed", list(exc.problems)
        )
    both = {r.id for r in records} & set(ids)
    if both:
        return _json_error(
            422,
            "nothing was changed",
            [Problem(i, "id", "is both written and deleted in this batch") for i in sorted(both)],
        )
    result = await asyncio.to_thread(request.app[STORE].apply, records, ids)
    summary = result.summary()
    logger.info("batch of %d records, %d deletes: %s", len(records), len(ids), summary)
    if summary["stale"]:
        logger.warning("batch ignored %d stale records", summary["stale"])
    return web.json_response(_result_json(result))


def setup_api(app: web.Application) -> None:
    app.middlewares.append(bearer_auth)
    app.router.add_put(PREFIX + "/events/{id}", put_event)
    app.router.add_get(PREFIX + "/events/{id}", get_event)
    app.router.add_delete(PREFIX + "/events/{id}", delete_event)
    app.router.add_post(PREFIX + "/events", post_batch)
