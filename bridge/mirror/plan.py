"""The pure planners: what to change, from what the source says and what the status DB knows.
No I/O here (vdirsyncer's ``_get_actions`` idea), so every rule is testable with plain values.

``plan_source``: a source read (changed items, removed items, or a full listing) against the
known rows -> new wanted states, and the refusal of a mass delete when a source suddenly reads
empty. ``plan_push``: dirty rows -> Google actions, one remote call each.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .mapping import Unit, revert_body

Want = Literal["event", "deleted", "revert"]
"""What a row should be in Google: the mapped event, nothing, or (for an occurrence edited by
hand) the series' own occurrence again."""
Remote = Literal["none", "present", "gone"]
"""What Google has of a row as far as the bridge knows: never created, there, or deleted (a
deleted event's id stays reserved: an insert of it answers 409)."""
ActionKind = Literal["insert", "update", "delete", "settle"]
DELETED: Want = "deleted"
REVERT: Want = "revert"


@dataclass(frozen=True, slots=True)
class Known:
    """A status row as the source planner needs it."""

    gid: str
    href: str
    series: str | None
    want: Want
    want_hash: str


@dataclass(frozen=True, slots=True)
class ItemRead:
    """One changed source item, mapped; ``problem`` set when it could not be read (then its
    Google events are left as they are)."""

    href: str
    etag: str | None
    item_hash: str = ""
    units: tuple[Unit, ...] = ()
    problem: str | None = None
    unchanged: bool = False
    """Same normalised content as stored: remember the ETag, leave the events alone."""


@dataclass(frozen=True, slots=True)
class Delta:
    """What one read of a source found. ``present`` is given for a full listing: every href
    that exists, changed or not; known hrefs outside it were removed."""

    items: tuple[ItemRead, ...] = ()
    removed: tuple[str, ...] = ()
    present: frozenset[str] | None = None

    @property
    def full(self) -> bool:
        return self.present is not None


@dataclass(frozen=True, slots=True)
class Write:
    """A new wanted state for one Google event."""

    gid: str
    href: str
    series: str | None
    want: str
    body: str | None
    want_hash: str
    end_ts: int


@dataclass(frozen=True, slots=True)
class SourcePlan:
    writes: tuple[Write, ...] = ()
    redo: tuple[str, ...] = ()
    """Instances to send again because their series changed (Google may reset them)."""
    items: tuple[tuple[str, str | None, str], ...] = ()
    """(href, etag, item hash) to remember."""
    drop_items: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    refused: str | None = None


def _write(unit: Unit, href: str) -> Write:
    return Write(unit.gid, href, unit.series, unit.want, unit.body_json(), unit.hash, unit.end_ts)


def plan_source(
    delta: Delta, known: Mapping[str, Known], *, allow_empty: bool = False
) -> SourcePlan:
    """New wanted states for one calendar.

    A full listing that is empty while Google holds live events is refused (nothing changes):
    a source that suddenly reads empty is far more often broken than emptied.
    """
    live = [k for k in known.values() if k.want != DELETED]
    if delta.full and not delta.present and live and not allow_empty:
        return SourcePlan(
            refused=f"the source suddenly reads empty; refusing to delete {len(live)} events "
            "in Google (if it really is empty, run 'ipoint-bridge sync --once --allow-empty')"
        )
    by_href: dict[str, list[Known]] = {}
    for k in known.values():
        by_href.setdefault(k.href, []).append(k)
    writes: dict[str, Write] = {}
    redo: set[str] = set()
    problems: list[str] = []
    items: list[tuple[str, str | None, str]] = []
    claimed: dict[str, str] = {}
    for item in delta.items:
        if item.problem is not None:
            problems.append(f"{item.href}: {item.problem}")
            continue
        if item.unchanged:
            items.append((item.href, item.etag, item.item_hash))
            continue
        clash = [u.uid for u in item.units if claimed.get(u.gid, item.href) != item.href]
        if clash:
            problems.append(
                f"{item.href}: UID {clash[0]!r} also appears in {claimed[item.units[0].gid]}"
            )
            continue
        items.append((item.href, item.etag, item.item_hash))
        gids = {u.gid for u in item.units}
        series_alive = {u.gid for u in item.units if u.series is None and u.want != DELETED}
        for unit in item.units:
            claimed[unit.gid] = item.href
            old = known.get(unit.gid)
            if (
                old is None
                or old.want_hash != unit.hash
                or old.want != unit.want
                or old.href != item.href
            ):
                writes[unit.gid] = _write(unit, item.href)
                if unit.series is None and old is not None:
                    redo.update(x.gid for x in known.values() if x.series == unit.gid)
        for k in by_href.get(item.href, []):
            if k.gid in gids:
                continue
            if k.series is not None and k.series in series_alive:
                if k.want != REVERT:
                    writes[k.gid] = Write(k.gid, k.href, k.series, REVERT, None, REVERT, 0)
            elif k.want != DELETED:
                writes[k.gid] = Write(k.gid, k.href, k.series, DELETED, None, DELETED, 0)
    gone = set(delta.removed)
    if delta.present is not None:
        seen = {i.href for i in delta.items}
        gone |= {h for h in by_href if h not in delta.present and h not in seen and h}
    for href in sorted(gone):
        for k in by_href.get(href, []):
            if k.want != DELETED and k.gid not in writes:
                writes[k.gid] = Write(k.gid, k.href, k.series, DELETED, None, DELETED, 0)
    redo -= set(writes)
    return SourcePlan(
        writes=tuple(writes.values()),
        redo=tuple(sorted(redo)),
        items=tuple(items),
        drop_items=tuple(sorted(gone)),
        problems=tuple(problems),
    )


@dataclass(frozen=True, slots=True)
class EventRow:
    """A dirty status row, as the push planner needs it."""

    cal_key: str
    gid: str
    series: str | None
    want: Want
    body: str | None
    want_hash: str
    done_hash: str | None
    remote: Remote


@dataclass(frozen=True, slots=True)
class Action:
    """One Google call (or, for ``settle``, none: the row is simply done)."""

    kind: ActionKind
    cal_key: str
    calendar_id: str
    gid: str
    want_hash: str
    body: dict[str, Any] | None = field(default=None, compare=False)


def _clean(row: EventRow) -> bool:
    return row.done_hash == row.want_hash


def plan_push(
    rows: Sequence[EventRow],
    series: Mapping[tuple[str, str], EventRow],
    calendar_ids: Mapping[str, str],
) -> list[Action]:
    """Actions for dirty ``rows`` of calendars that exist in Google (``calendar_ids``).

    Series and single events come first; an instance is touched only once its series is in
    Google and settled (Google derives instances from the series). ``series`` maps
    (calendar, series id) to the series' row.
    """
    first: list[Action] = []
    later: list[Action] = []
    for row in rows:
        cid = calendar_ids.get(row.cal_key)
        if cid is None or _clean(row):
            continue
        if row.series is None:
            first.append(_plan_single(row, cid))
            continue
        parent = series.get((row.cal_key, row.series))
        if parent is None or parent.want == DELETED:
            # Deleting a series deletes its instances; nothing left to do for this one.
            later.append(Action("settle", row.cal_key, cid, row.gid, row.want_hash))
            continue
        if not _clean(parent) or parent.remote != "present":
            continue
        if row.want == DELETED:
            later.append(Action("delete", row.cal_key, cid, row.gid, row.want_hash))
        elif row.want == REVERT:
            assert parent.body is not None
            body = revert_body(json.loads(parent.body), row.gid)
            later.append(Action("update", row.cal_key, cid, row.gid, row.want_hash, body))
        else:
            assert row.body is not None
            body = json.loads(row.body)
            later.append(Action("update", row.cal_key, cid, row.gid, row.want_hash, body))
    return first + later


def _plan_single(row: EventRow, cid: str) -> Action:
    if row.want == DELETED:
        if row.remote == "gone":
            return Action("settle", row.cal_key, cid, row.gid, row.want_hash)
        return Action("delete", row.cal_key, cid, row.gid, row.want_hash)
    assert row.body is not None
    body = json.loads(row.body)
    # An id Google has seen (even deleted) must be updated: inserting it again answers 409.
    kind: ActionKind = "insert" if row.remote == "none" else "update"
    return Action(kind, row.cal_key, cid, row.gid, row.want_hash, body)
