"""The FileMaker sources in the web server: their loops as a ``cleanup_ctx`` background task,
the webhook FileMaker Server calls, and their lines in ``/readyz`` and ``/metrics``.

``POST /api/v1/filemaker/{name}/webhook`` takes the source's ``webhook_token`` (or, without
one, the push API's ``[web] ingest_token``) as a bearer token, checked before anything else.
Claris does not specify the webhook's payload (FileMaker Server 22.0.4+ sends the ``select``-ed
fields of the changed records): any JSON body up to the source's ``webhook_max_bytes`` is taken
as "read now", and every value under the source's key field found in it is read first.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
from aiohttp import web

from ..filemaker.service import SourceRunner
from ..filemaker.sources import build_runners
from ..jsonin import JSONInputError, loads
from .keys import SETTINGS, STORE
from .readiness import Readiness, Verdict

logger = logging.getLogger(__name__)

FILEMAKER: web.AppKey[dict[str, SourceRunner]] = web.AppKey("filemaker", dict)
_MAX_DEPTH = 32
_MAX_VALUES = 100_000


def runners(app: web.Application) -> dict[str, SourceRunner]:
    """The running sources (empty when none is configured or the app has not started)."""
    return app.get(FILEMAKER) or {}


async def filemaker_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    async with aiohttp.ClientSession() as http:
        app[FILEMAKER] = build_runners(settings, app[STORE], http)
        tasks = [
            asyncio.create_task(r.run(), name=f"filemaker:{n}") for n, r in app[FILEMAKER].items()
        ]
        yield
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for runner in app[FILEMAKER].values():
            await runner.close()


def _values_under(node: Any, key: str, depth: int = 0) -> Iterator[str]:
    if depth > _MAX_DEPTH:
        return
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key and isinstance(v, str | int | float) and not isinstance(v, bool):
                yield str(v)
            else:
                yield from _values_under(v, key, depth + 1)
    elif isinstance(node, list):
        for item in node:
            yield from _values_under(item, key, depth + 1)


def hinted_keys(payload: Any, id_field: str) -> list[str]:
    """Values of ``id_field`` anywhere in a webhook payload, in order, without repeats."""
    out: dict[str, None] = {}
    for value in _values_under(payload, id_field):
        if len(out) >= _MAX_VALUES:
            break
        out.setdefault(value, None)
    return list(out)


def _authorized(request: web.Request, name: str) -> web.Response | None:
    """None when the bearer token is the source's ``webhook_token`` (or, without one, the push
    API's ``[web] ingest_token``); else the 401/403 answer. Checked before anything else."""
    settings = request.app[SETTINGS]
    source = settings.filemaker.get(name)
    token = (source.webhook_token if source else "") or settings.web.ingest_token
    if not token:
        return web.json_response(
            {"error": "webhooks are disabled: set [web] ingest_token or webhook_token"}, status=403
        )
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        return web.json_response(
            {"error": "missing or wrong bearer token"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="ipoint-bridge"'},
        )
    return None


async def webhook(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    refused = _authorized(request, name)
    if refused is not None:
        return refused
    runner = runners(request.app).get(name)
    if runner is None:
        return web.json_response({"error": f"no FileMaker source [filemaker:{name}]"}, status=404)
    limit = request.app[SETTINGS].filemaker[name].webhook_max_bytes
    too_big = web.json_response({"error": f"webhook body over {limit} bytes"}, status=413)
    if request.content_length is not None and request.content_length > limit:
        return too_big
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(1 << 14):
        size += len(chunk)
        if size > limit:
            return too_big
        chunks.append(chunk)
    raw = b"".join(chunks)
    payload: Any = None
    if raw.strip():
        try:
            payload = loads(raw, request.app[SETTINGS].ingest.max_json_depth)
        except JSONInputError as exc:
            return web.json_response({"error": f"webhook body: {exc.message}"}, status=400)
    keys = hinted_keys(payload, runner.poller.spec.id_field)
    runner.hint(keys)
    logger.info("[filemaker:%s] webhook: read now (%d keys hinted)", name, len(keys))
    return web.json_response({"source": name, "read": "now", "keys": len(keys)}, status=202)


def add_readiness(app: web.Application, registry: Readiness) -> None:
    """One ``/readyz`` part per source, in plain words. They do not make the bridge unready
    (``required=False``): it keeps serving what it has while FileMaker is away, and a failing
    probe would take it out of service for exactly that."""
    for name in app[SETTINGS].filemaker:

        async def check(name: str = name) -> Verdict:
            runner = runners(app).get(name)
            status = runner.status if runner is not None else None
            if status is None or (status.last_success is None and not status.last_error):
                return Verdict(False, "starting")
            if status.last_error:
                return Verdict(False, status.last_error)
            return Verdict(True, "ok")

        registry.add(f"filemaker:{name}", check, required=False)


def metric_samples(app: web.Application) -> list[tuple[str, str, str, list[Any]]]:
    """(name, type, help, samples) of the sources' metric families, for ``/metrics``."""
    items = sorted(runners(app).items())
    if not items:
        return []

    def each(value: Any) -> list[tuple[dict[str, str], float]]:
        return [({"source": n}, float(value(r))) for n, r in items]

    return [
        (
            "ipoint_bridge_filemaker_up",
            "gauge",
            "1 when the last read of the FileMaker source succeeded.",
            each(lambda r: r.status.ok),
        ),
        (
            "ipoint_bridge_filemaker_records_read_total",
            "counter",
            "FileMaker records read (changed ones; unchanged boundary records are not counted).",
            each(lambda r: r.status.records_read),
        ),
        (
            "ipoint_bridge_filemaker_records_skipped_total",
            "counter",
            "FileMaker records left out because a value could not be read or was rejected.",
            each(lambda r: r.status.skipped_total),
        ),
        (
            "ipoint_bridge_filemaker_records_deleted_total",
            "counter",
            "Records deleted because they are gone from FileMaker.",
            each(lambda r: r.status.records_deleted),
        ),
        (
            "ipoint_bridge_filemaker_deletion_refused",
            "gauge",
            "1 while a mass deletion from this source is refused by the safety valve.",
            each(lambda r: r.status.refused_deletion is not None),
        ),
        (
            "ipoint_bridge_filemaker_last_reconcile_timestamp_seconds",
            "gauge",
            "Unix time the last deletion scan finished (0 before the first).",
            each(lambda r: r.status.last_reconcile or 0.0),
        ),
        (
            "ipoint_bridge_filemaker_last_success_timestamp_seconds",
            "gauge",
            "Unix time of the last successful read (0 before the first).",
            each(lambda r: r.status.last_success or 0.0),
        ),
    ]


def setup_filemaker(app: web.Application) -> None:
    app.router.add_post("/api/v1/filemaker/{name}/webhook", webhook)
    if app[SETTINGS].filemaker:
        app.cleanup_ctx.append(filemaker_ctx)
