"""Reading the sources: every target's CalDAV collection or ICS feed, from its stored position
(sync token, ctag, etag), into the status tables, four sources at a time.

Reads are async (aiohttp) on the event loop; each page is mapped and recorded on the mirror's
worker thread. A source that fails is recorded as that calendar's error; the others go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

import aiohttp

from . import caldav_client, ics_client
from .caldav_client import SourceError
from .ingest import ingest_page
from .mapping import MapContext
from .sources import Page, SourceKind, SourceSpec, Target

if TYPE_CHECKING:
    from .engine import Mirror

PARALLEL_SOURCES = 4


async def poll(
    mirror: Mirror,
    session: aiohttp.ClientSession,
    chosen: Sequence[Target],
    *,
    allow_empty: bool = False,
) -> None:
    """Read every source's changes into the status tables (four sources at a time)."""
    gate = asyncio.Semaphore(PARALLEL_SOURCES)

    async def one(target: Target) -> None:
        async with gate:
            try:
                await _poll(mirror, session, target, allow_empty)
            except SourceError as exc:
                mirror.error(target.key, str(exc))

    await asyncio.gather(*(one(t) for t in chosen))


async def _poll(
    mirror: Mirror, session: aiohttp.ClientSession, target: Target, allow_empty: bool
) -> None:
    spec = target.source
    if target.login is not None and not spec.password:
        raise SourceError(
            "the mirror reads iPoint calendars over CalDAV as [caldav] service_user, but "
            "[caldav] service_password is empty: set it (the CalDAV server adds the login)"
        )
    row = await mirror.run(mirror.status.calendar, target.key)
    same = row is not None and row.source_url == spec.url
    position: dict[str, Any] = {}
    kind = spec.kind
    if same and row is not None:
        position = {"sync_token": row.sync_token, "ctag": row.ctag, "etag": row.etag}
        if kind == "auto" and row.source_kind:
            kind = row.source_kind
    if kind == "auto":
        kind = await _detect(session, spec)
    ctx = mirror.context(target)
    pages: AsyncIterator[Page]
    if kind == "caldav":
        etags = None
        if same and row is not None and not row.sync_token and row.ctag:
            items = await mirror.run(mirror.status.items, target.key)
            etags = {h: e for h, (e, _) in items.items()}
        pages = caldav_client.read(session, spec, position, etags)
    else:
        pages = ics_client.read(session, spec, position)
    async for page in pages:
        await mirror.run(_ingest, mirror, target, page, ctx, kind, allow_empty)


def _ingest(
    mirror: Mirror,
    target: Target,
    page: Page,
    ctx: MapContext,
    kind: SourceKind,
    allow_empty: bool,
) -> None:
    """Map one page of a source read and record it (with the position on the last page)."""
    problem = ingest_page(mirror.status, target, page, ctx, kind, allow_empty)
    if problem:
        mirror.error(target.key, problem)


async def _detect(session: aiohttp.ClientSession, spec: SourceSpec) -> SourceKind:
    """``caldav`` for a calendar collection, ``ics`` for anything else."""
    if spec.url.lower().split("?", 1)[0].endswith(".ics"):
        return "ics"
    try:
        head = await caldav_client.probe(session, spec)
    except SourceError:
        return "ics"
    return "caldav" if head["calendar"] else "ics"
