"""Ingest: one page of a source read -> new wanted states in the status tables.

Items whose normalised content (salted with the mapping context) is unchanged are not mapped
again; unreadable items are reported and leave their Google events alone; the planner decides
the rest (``plan.plan_source``), and the page is recorded in one transaction with the sync
position when it is the last one.
"""

from __future__ import annotations

from typing import Any

from .mapping import MapContext, MappingProblem, group_by_uid, map_group, parse
from .normalise import item_hash
from .plan import Delta, ItemRead, plan_source
from .sources import Page, SourceKind, Target
from .status import StatusDB


def ingest_page(
    status: StatusDB,
    target: Target,
    page: Page,
    ctx: MapContext,
    kind: SourceKind,
    allow_empty: bool = False,
) -> str | None:
    """Map one page of a source read and record it, with the sync position on the last page.
    Returns a problem in plain words (unreadable items, a refused mass delete), if any."""
    key = target.key
    stored = status.items(key, [i.href for i in page.items])
    salt = ctx.fingerprint()
    reads: list[ItemRead] = []
    for raw in page.items:
        try:
            groups = group_by_uid(parse(raw.text))
            events = [e for evs in groups.values() for e in evs]
            h = item_hash(events, salt)
            if raw.href in stored and stored[raw.href][1] == h:
                reads.append(ItemRead(raw.href, raw.etag, h, unchanged=True))
                continue
            units = tuple(
                u for uid, evs in groups.items() for u in map_group(uid, evs, ctx, digest=h).units
            )
            reads.append(ItemRead(raw.href, raw.etag, h, units))
        except (MappingProblem, ValueError, KeyError, TypeError, AttributeError) as exc:
            reads.append(ItemRead(raw.href, raw.etag, problem=str(exc) or type(exc).__name__))
    if page.present is not None:
        known = status.known(key)
    else:
        known = status.known(key, {r.href for r in reads} | set(page.removed))
    delta = Delta(tuple(reads), page.removed, page.present)
    plan = plan_source(delta, known, allow_empty=allow_empty)
    if plan.refused:
        return plan.refused
    position: dict[str, Any] = {}
    if page.last and page.position is not None:
        position = {**page.position, "source_url": target.source.url, "source_kind": kind}
    status.apply_source(key, plan, position)
    if plan.problems:
        more = f" (and {len(plan.problems) - 2} more)" if len(plan.problems) > 2 else ""
        return "; ".join(plan.problems[:2]) + more
    return None
