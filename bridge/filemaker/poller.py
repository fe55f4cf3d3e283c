"""Reading one FileMaker source into the store: changes since the kept position, records named
by key (a webhook's hint), and the deletion scan.

Changes: a ``_find`` on the auto-enter modification timestamp, ``>=`` the last one read minus
the overlap, sorted by (modified, key); the first read (and ``--full``) takes plain ranges.
Pages of changes are walked by key set, not by a growing offset: a record modified while a pass
pages through moves to the end of the sort order, and an offset would then skip the record that
slid into its place. Each page's records go through the field map and the push API's
validation (``mapping.read_record``) and ``EventStore.apply`` (its store); a bad record is
skipped and reported while the rest of its page is written.

Deletions: the keys of every record (``{id_field: "*"}``, large pages, no portals) against the
store's live ids under ``id_prefix``; the gone ones are deleted unless they are more than the
source's ``max_delete_share`` (the same refusal as ``import --replace``'s safety valve).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..errors import Problem, SafetyValveError
from ..records import EventRecord
from ..store import EventStore
from .client import DataAPI, Page
from .errors import FieldMissing, FileMakerError
from .state import Position, live_ids, load_position, save_position
from .status import SourceStatus

logger = logging.getLogger(__name__)

MAX_BOUNDARY = 10_000
"""Boundary records kept between polls; past this a poll simply re-reads a few records."""
KEYS_PER_FIND = 50
"""Keys asked for in one ``_find`` (one OR-ed query object each)."""
MAX_CATCH_UP = 1000
"""Records FileMaker has and the store lacks read per reconcile (the rest at the next one)."""
REREAD = 50
"""Records of the current second asked for again with each next page: within one second
pages go by offset, and a record of that second edited or deleted between two pages shifts
the rest up; reading a few again (and skipping those already read) keeps any from being
missed while fewer than this many move per page."""

Reader = Callable[[Mapping[str, Any]], tuple[EventRecord | None, list[Problem]]]
"""One Data API record (``fieldData``, ``portalData``...) -> the validated record, or None and
the problems found (``mapping.read_record``: the field map, then the push API's validation)."""


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """What the poller needs of a ``[filemaker:NAME]`` section."""

    name: str
    layout: str
    id_field: str
    id_prefix: str
    modified_field: str
    portals: tuple[str, ...] = ()
    required_fields: tuple[str, ...] = ()
    """FileMaker fields the map reads from the layout itself."""
    portal_fields: tuple[str, ...] = ()
    """``Table::Field`` names the map reads from the portal (``portals[0]``)."""
    page_size: int = 1000
    key_page_size: int = 10_000
    overlap_s: int = 10
    """Each poll reads again from this long before the newest timestamp read (several records
    share a second; a write may commit a little after its timestamp)."""

    @property
    def overlap(self) -> timedelta:
        return timedelta(seconds=self.overlap_s)


@dataclass(frozen=True, slots=True)
class PassResult:
    read: int
    """Records taken in: new or changed (those re-read in the overlap, unchanged, not counted)."""
    written: int
    skipped: int
    requests: int


def parse_timestamp(text: str) -> datetime | None:
    """A FileMaker timestamp as the Data API sends it: US ``MM/dd/yyyy HH:mm:ss`` by default,
    ISO 8601 with ``dateformats=2``. No zone: it is the FileMaker host's wall clock."""
    text = text.strip()
    for fmt in ("%m/%d/%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def criterion(when: datetime) -> str:
    """``>=`` find criterion in FileMaker's default (US) format, which every server reads."""
    return ">=" + when.strftime("%m/%d/%Y %H:%M:%S")


def _key(record: Mapping[str, Any], id_field: str) -> str:
    fields = record.get("fieldData")
    value = fields.get(id_field, "") if isinstance(fields, dict) else ""
    return str(value).strip() if value is not None else ""


def _mod_id(record: Mapping[str, Any]) -> str:
    return str(record.get("modId", ""))


class SourcePoller:
    """One source's reads. ``poll`` and ``read_keys`` run one at a time (they share ``api``
    and the kept position); ``reconcile`` may run beside them on ``scan_api``."""

    def __init__(
        self,
        spec: SourceSpec,
        api: DataAPI,
        store: EventStore,
        reader: Reader,
        *,
        max_delete_share: float,
        status: SourceStatus | None = None,
        scan_api: DataAPI | None = None,
    ) -> None:
        self.spec = spec
        self.api = api
        self.scan_api = scan_api or api
        """The deletion scan's own session, so ``serve`` can poll while a long scan runs."""
        self.store = store
        self.reader = reader
        self.max_delete_share = max_delete_share
        self.status = status or SourceStatus(spec.name)
        self._position: Position | None = None

    # ------------------------------------------------------------------ records -> store

    def _convert(self, record: Mapping[str, Any]) -> EventRecord | None:
        event, problems = self.reader(record)
        if event is None:
            key = _key(record, self.spec.id_field)
            shown = self.spec.id_prefix + key if key else f"recordId {record.get('recordId', '?')}"
            for problem in problems[:3]:
                self.status.skip(shown, problem.field, problem.reason)
            logger.warning(
                "[filemaker:%s] skipped %s: %s",
                self.spec.name,
                shown,
                "; ".join(f"{p.field}: {p.reason}" if p.field else p.reason for p in problems),
            )
        return event

    async def _write(self, records: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
        """Map, validate and store one page in a worker thread (the event loop meanwhile fetches
        the next page); returns (written, skipped)."""
        if not records:
            return 0, 0
        return await asyncio.to_thread(self._write_page, records)

    def _write_page(self, records: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
        events: dict[str, EventRecord] = {}
        skipped = 0
        for record in records:
            event = self._convert(record)
            if event is None:
                skipped += 1
            else:
                events[event.id] = event
        if not events:
            return 0, skipped
        result = self.store.apply(list(events.values()))
        if self.status.skips:
            self.status.written(set(events))
        written = sum(1 for o in result.outcomes if o.result in ("created", "updated"))
        for o in result.outcomes:
            if o.result == "stale":
                self.status.skip(o.id, "modified", o.reason or "older than the stored record")
        self.status.records_read += len(records)
        self.status.records_written += written
        if written:
            logger.info(
                "[filemaker:%s] wrote %d of %d records", self.spec.name, written, len(records)
            )
        return written, skipped

    async def verify(self) -> None:
        """Check the layout against the map (one metadata request), so a field missing from
        the layout is named at once instead of every record being skipped for it.

        Raises:
            LayoutMissing: 105; FieldMissing: a mapped field or the portal is not there."""
        spec = self.spec
        info = await self.api.layout(spec.layout)
        missing = [f for f in spec.required_fields if f not in info.fields]
        if missing:
            raise FieldMissing(
                f"field {', '.join(repr(f) for f in missing)} is not on layout {spec.layout!r} "
                f"(it has: {', '.join(info.fields)})",
                code="102",
            )
        for portal in spec.portals:
            fields = info.portals.get(portal)
            if fields is None:
                raise FieldMissing(
                    f"portal {portal!r} is not on layout {spec.layout!r} "
                    f"(portals: {', '.join(info.portals) or 'none'})",
                    code="102",
                )
            lacking = [f for f in spec.portal_fields if f not in fields]
            if lacking:
                raise FieldMissing(
                    f"field {', '.join(repr(f) for f in lacking)} is not in portal {portal!r} "
                    f"(it has: {', '.join(fields)})",
                    code="102",
                )

    # ------------------------------------------------------------------ changes

    async def position(self) -> Position:
        if self._position is None:
            self._position = await asyncio.to_thread(load_position, self.store, self.spec.name)
        return self._position

    async def _newest_stamp(self) -> tuple[datetime, str] | None:
        """The newest modification stamp FileMaker has now (one ``_find``, sorted descending,
        one record), as (time, FileMaker's text); None for an empty layout."""
        spec = self.spec
        page = await self.api.find(
            spec.layout,
            [{spec.modified_field: "*"}],
            sort=[{"fieldName": spec.modified_field, "sortOrder": "descend"}],
            limit=1,
        )
        for record in page.records:
            text = str((record.get("fieldData") or {}).get(spec.modified_field, "") or "")
            stamp = parse_timestamp(text) if text else None
            if stamp is not None:
                return stamp, text
        return None

    async def poll(
        self, *, full: bool = False, progress: Callable[[int, int], None] | None = None
    ) -> PassResult:
        """Read every record modified since the kept position (all of them with ``full`` or
        when nothing was read yet), write them, and keep the new position. ``progress(done,
        total)`` is told after each page: records read so far, and that plus what FileMaker's
        found set says is still to come."""
        spec = self.spec
        start_requests = self.api.requests
        position = Position() if full else await self.position()
        since = parse_timestamp(position.modified) if position.modified else None
        boundary = position.boundary
        floor = since - spec.overlap if since is not None else None
        newest, newest_text = since, position.modified
        tail: dict[str, tuple[str, datetime]] = {
            k: (v, since) for k, v in boundary.items() if since is not None
        }
        read = written = skipped = seen = 0
        seen_at_floor = 0
        # With nothing read yet (or --full), every record is read in FileMaker's own order
        # (creation order: an edit does not move a record in it) by plain ranges, which spares
        # the server a sort of the whole file per page. An edit during that read is caught by
        # the next poll; a record skipped because a deletion shifted the ranges, by the
        # reconcile's catch-up.
        whole = floor is None
        # A whole read goes in creation order, so a record edited after it was read can carry an
        # older stamp than one read later. The newest stamp FileMaker had when the read began
        # becomes the position instead, so the next poll reads every edit made meanwhile.
        began_at = await self._newest_stamp() if whole else None
        back = min(REREAD, spec.page_size // 2)
        read_at_floor: dict[str, str] = {}  # key -> modId of the records of ``floor`` read

        def fetch() -> asyncio.Task[Page]:
            if whole:
                return asyncio.create_task(
                    self.api.records(
                        spec.layout,
                        offset=1 + seen_at_floor,
                        limit=spec.page_size,
                        portals=list(spec.portals),
                    )
                )
            query = {spec.modified_field: criterion(floor)} if floor else {spec.id_field: "*"}
            return asyncio.create_task(
                self.api.find(
                    spec.layout,
                    [query],
                    sort=[
                        {"fieldName": spec.modified_field, "sortOrder": "ascend"},
                        {"fieldName": spec.id_field, "sortOrder": "ascend"},
                    ],
                    offset=1 + max(0, seen_at_floor - back),
                    limit=spec.page_size,
                    portals=list(spec.portals),
                )
            )

        pending: asyncio.Task[Page] | None = fetch()
        try:
            for _ in range(10_000_000 // spec.page_size + 10):
                assert pending is not None
                page = await pending
                pending = None
                asked_from = seen_at_floor if whole else max(0, seen_at_floor - back)
                fresh = []
                stamps: list[datetime | None] = []
                taken: list[Mapping[str, Any]] = []  # the page less what this pass read already
                for record in page.records:
                    key = _key(record, spec.id_field)
                    text = str((record.get("fieldData") or {}).get(spec.modified_field, "") or "")
                    stamp = parse_timestamp(text) if text else None
                    if key and read_at_floor.get(key) == _mod_id(record):
                        continue  # read again on purpose (``REREAD``): already taken
                    taken.append(record)
                    stamps.append(stamp)
                    if not key or boundary.get(key) != _mod_id(record):
                        fresh.append(record)
                    if stamp is not None and (newest is None or stamp > newest):
                        newest, newest_text = stamp, text
                    if key and stamp is not None:
                        tail[key] = (_mod_id(record), stamp)
                if newest is not None:
                    cutoff = newest - spec.overlap
                    tail = {k: v for k, v in tail.items() if v[1] >= cutoff}
                if len(page.records) >= spec.page_size:
                    # Key-set paging: go on from the last timestamp of this page, skipping the
                    # records this pass has already read at exactly that second. The next page
                    # is asked for before this one is written, so latency and writing overlap.
                    last = stamps[-1] if stamps else floor
                    if not taken:
                        seen_at_floor += len(page.records)  # nothing new: never ask again
                    elif whole or last is None or last == floor:
                        seen_at_floor += len(taken)
                    else:
                        floor = last
                        seen_at_floor = sum(1 for st in stamps if st == last)
                        read_at_floor.clear()
                    if not whole:
                        for record, stamp in zip(taken, stamps, strict=True):
                            key = _key(record, spec.id_field)
                            if key and stamp == floor:
                                read_at_floor[key] = _mod_id(record)
                    pending = fetch()
                read += len(fresh)
                w, s = await self._write(fresh)
                written += w
                skipped += s
                seen += len(taken)
                if progress is not None:
                    progress(seen, seen + max(0, page.found - asked_from - len(page.records)))
                if pending is None:
                    break
        finally:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, FileMakerError):
                    await pending
        if began_at is not None and (newest is None or began_at[0] < newest):
            newest, newest_text, tail = began_at[0], began_at[1], {}
        if len(tail) > MAX_BOUNDARY:
            tail = dict(sorted(tail.items(), key=lambda kv: kv[1][1])[-MAX_BOUNDARY:])
        self._position = Position(newest_text, {k: v[0] for k, v in tail.items()})
        await asyncio.to_thread(save_position, self.store, spec.name, self._position)
        self.status.polls += 1
        self.status.succeeded()
        return PassResult(read, written, skipped, self.api.requests - start_requests)

    async def _find_keys(
        self, keys: Sequence[str], api: DataAPI | None = None
    ) -> list[Mapping[str, Any]]:
        """The records with these keys (exact matches, ``KEYS_PER_FIND`` OR-ed per request)."""
        spec = self.spec
        out: list[Mapping[str, Any]] = []
        for i in range(0, len(keys), KEYS_PER_FIND):
            chunk = keys[i : i + KEYS_PER_FIND]
            page = await (api or self.api).find(
                spec.layout,
                [{spec.id_field: "==" + _escape_find(k)} for k in chunk],
                limit=len(chunk) * 2,
                portals=list(spec.portals),
            )
            out.extend(page.records)
        return out

    async def read_keys(self, keys: Iterable[str]) -> PassResult:
        """Read the records with these keys now (a webhook's hint), ahead of the next poll."""
        start_requests = self.api.requests
        wanted = list(dict.fromkeys(k.strip() for k in keys if k and k.strip()))
        records = await self._find_keys(wanted)
        written, skipped = await self._write(records)
        return PassResult(len(records), written, skipped, self.api.requests - start_requests)

    # ------------------------------------------------------------------ deletions

    async def scan_keys(self) -> set[str] | None:
        """Every key on the layout as the bridge's ids (no portals, large pages, FileMaker's
        own order, the next page asked for while this one is read); None when the found set
        changed size during the scan (offsets moved: this scan proves nothing)."""
        spec = self.spec
        limit = spec.key_page_size
        ids: set[str] = set()

        def fetch(offset: int) -> asyncio.Task[Page]:
            return asyncio.create_task(
                self.scan_api.find(
                    spec.layout, [{spec.id_field: "*"}], offset=offset, limit=limit, portals=[]
                )
            )

        offset = 1
        found: int | None = None
        pending: asyncio.Task[Page] | None = fetch(offset)
        try:
            for _ in range(10_000_000 // limit + 10):
                assert pending is not None
                page = await pending
                pending = None
                if page.records:
                    if found is not None and page.found != found:
                        return None
                    found = page.found
                if len(page.records) >= limit:
                    offset += len(page.records)
                    pending = fetch(offset)
                for record in page.records:
                    key = _key(record, spec.id_field)
                    if key:
                        ids.add(spec.id_prefix + key)
                if pending is None:
                    return ids
        finally:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, FileMakerError):
                    await pending
        return None

    async def reconcile(self, *, force: bool = False) -> int:
        """Delete the stored records of this source that FileMaker no longer has, and read the
        ones it has that the store lacks (missed or once skipped), up to ``MAX_CATCH_UP``.

        Each record to delete is first looked up by key once more, so a record that only
        seemed gone (the found set moved under the scan) is kept.

        Raises:
            SafetyValveError: more than ``max_delete_share`` would go; nothing deleted (the
                refusal is also kept on the status for the admin page).
        """
        spec = self.spec
        present = await self.scan_keys()
        if present is None:
            logger.info("[filemaker:%s] records changed during the key scan: next time", spec.name)
            return 0
        stored = await asyncio.to_thread(lambda: list(live_ids(self.store, spec.id_prefix)))
        gone = [i for i in stored if i not in present]
        known = set(stored)
        missing = [i for i in present if i not in known][:MAX_CATCH_UP]
        del present, known
        if gone and not force and len(gone) > self.max_delete_share * len(stored):
            error = SafetyValveError(len(gone), len(stored), self.max_delete_share)
            self.status.refused_deletion = (
                f"refused to delete {len(gone)} of {len(stored)} records of "
                f"[filemaker:{spec.name}] (more than {self.max_delete_share:.0%} gone from "
                "FileMaker at once); check the layout's found set and account, or run "
                f"`ipoint-bridge filemaker sync {spec.name} --force`"
            )
            logger.error("%s", self.status.refused_deletion)
            raise error
        self.status.refused_deletion = None
        cut = len(spec.id_prefix)
        still = await self._find_keys([i[cut:] for i in gone], self.scan_api)
        if still:
            await self._write(still)
            kept = {spec.id_prefix + _key(r, spec.id_field) for r in still}
            gone = [i for i in gone if i not in kept]
        deleted = 0
        for i in range(0, len(gone), 500):
            result = await asyncio.to_thread(self.store.apply, [], gone[i : i + 500])
            deleted += sum(1 for o in result.outcomes if o.result == "deleted")
        if deleted:
            logger.info("[filemaker:%s] deleted %d records gone from FileMaker", spec.name, deleted)
        if missing:
            found = await self._find_keys([i[cut:] for i in missing], self.scan_api)
            await self._write(found)
        self.status.records_deleted += deleted
        self.status.last_reconcile = time.time()
        return deleted


def _escape_find(value: str) -> str:
    """A key as an exact-match criterion: FileMaker's find operators in it are quoted."""
    if any(c in value for c in '@#*"\\=<>!~.…/?'):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value
