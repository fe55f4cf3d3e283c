"""Radicale collections for iPoint calendars, answered from the event store.

``BaseCollection``'s defaults are correct but walk every item; here each costs what it should:
the etag and ctag come from the calendar's change-log position (RFC 6578 needs no hashing), an
incremental ``sync`` reads only the changes since the token, a time-range calendar-query reads
the indexed start/end columns, and items are built from stored text without parsing.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, overload

from radicale import item as radicale_item
from radicale import storage as radicale_storage
from radicale.item import filter as radicale_filter

from bridge.caldav import layout
from bridge.caldav.export import CalendarHeader, stream_calendar
from bridge.caldav.props import collection_etag, http_date
from bridge.caldav.timerange import bounds, in_range
from bridge.caldav.tokens import make_token, parse_token
from bridge.errors import UnknownSyncToken

from .backend import Backend, CalendarView
from .errors import ReadOnlyCalendar
from .items import StoredItem, TextBatch

logger = logging.getLogger(__name__)
_BATCH = 500


class IPointCollection(radicale_storage.BaseCollection):
    """One technician's iPoint calendar as seen from one home (their own, or a reader's)."""

    def __init__(self, backend: Backend, view: CalendarView) -> None:
        self._backend = backend
        self._view = view
        self._calendar = view.where.calendar

    @property
    def path(self) -> str:
        return self._view.where.path

    @property
    def tag(self) -> str:
        return "VCALENDAR"

    # ------------------------------------------------------------ state

    def _seq(self) -> tuple[int, float]:
        state = self._backend.store.calendar_state(self._calendar)
        return (state.seq, state.last_modified) if state else (0, 0.0)

    @property
    def etag(self) -> str:
        # The change-log position moves with every change to this calendar (RFC 6578 4), and the
        # metadata digest with a new name or colour; nothing is hashed per item.
        seq, _ = self._seq()
        return collection_etag(self._backend.store.instance, seq, self._view.meta_digest)

    @property
    def last_modified(self) -> str:
        return http_date(self._seq()[1])

    @overload
    def get_meta(self, key: None = None) -> Mapping[str, str]: ...

    @overload
    def get_meta(self, key: str) -> str | None: ...

    def get_meta(self, key: str | None = None) -> Mapping[str, str] | str | None:
        if key is None:
            return dict(self._view.meta)
        return self._view.meta.get(key)

    # ------------------------------------------------------------ reads

    def sync(self, old_token: str = "") -> tuple[str, Iterable[str]]:
        store = self._backend.store
        if not old_token:
            # A full listing is read only if it is iterated: PROPFIND asks for DAV:sync-token
            # through this method too, and must not list 100k events to learn the position.
            # Both run inside the request's read snapshot, so token and listing agree.
            seq, _ = self._seq()
            return make_token(store.instance, seq), self._all_names()
        try:
            changes = store.changes_since(self._calendar, parse_token(old_token, store.instance))
        except UnknownSyncToken as exc:
            raise ValueError(str(exc)) from exc
        names = [layout.href_for(c.event_id) for c in changes.changes]
        return make_token(store.instance, changes.seq), names

    def _all_names(self) -> Iterator[str]:
        for event_id, _, _ in self._backend.store.stamps(self._calendar):
            yield layout.href_for(event_id)

    def get_item(self, href: str) -> StoredItem | None:
        event_id = layout.event_id_for(href)
        if event_id is None:
            return None
        found = self._backend.store.get_many(self._calendar, [event_id])
        return StoredItem.of(self, found[0]) if found else None

    def get_multi(self, hrefs: Iterable[str]) -> Iterator[tuple[str, radicale_item.Item | None]]:
        pending: dict[str, str] = {}
        for href in hrefs:
            event_id = layout.event_id_for(href)
            if event_id is None:
                yield href, None
                continue
            pending[event_id] = href
            if len(pending) >= _BATCH:
                yield from self._fetch(pending)
                pending = {}
        yield from self._fetch(pending)

    def _fetch(self, wanted: dict[str, str]) -> Iterator[tuple[str, radicale_item.Item | None]]:
        if not wanted:
            return
        store = self._backend.store
        found = {s[0]: s for s in store.stamps(self._calendar, list(wanted))}
        batch = TextBatch(store, self._calendar, list(found))
        for event_id, href in wanted.items():
            stamp = found.pop(event_id, None)
            yield href, StoredItem(self, stamp, batch) if stamp is not None else None

    def get_all(self) -> Iterator[radicale_item.Item]:
        store = self._backend.store
        page: list[tuple[str, str, float]] = []
        for stamp in store.stamps(self._calendar):
            page.append(stamp)
            if len(page) == _BATCH:
                yield from self._items(page)
                page = []
        yield from self._items(page)

    def _items(self, page: list[tuple[str, str, float]]) -> Iterator[radicale_item.Item]:
        batch = TextBatch(self._backend.store, self._calendar, [s[0] for s in page])
        for stamp in page:
            yield StoredItem(self, stamp, batch)

    def get_filtered(
        self, filters: Iterable[ET.Element]
    ) -> Iterator[tuple[radicale_item.Item, bool]]:
        tag, start, end, simple = radicale_filter.simplify_prefilters(filters, "VCALENDAR")
        if tag not in (None, "VEVENT"):
            return  # an iPoint calendar holds VEVENTs only
        span = bounds(start, end)
        if span is None:
            for item in self.get_all():
                yield item, simple
            return
        limit = self._backend.settings.caldav.max_expansion_steps
        for event, decided in in_range(self._backend.store, self._calendar, *span, limit):
            # Undecided series are left to Radicale's filter on the parsed item.
            yield StoredItem.of(self, event), simple and decided

    def has_uid(self, uid: str) -> bool:
        return False  # never asked: PUT on an iPoint calendar is refused before it

    def serialize(
        self,
        vcf_to_ics: bool = False,
        ShareActions: dict[str, Any] | None = None,  # Radicale's parameter name
    ) -> str:
        header = CalendarHeader(
            name=self._view.meta["D:displayname"],
            timezone=self._backend.settings.bridge.timezone,
        )
        return "".join(stream_calendar(self._backend.store, self._calendar, header))

    # ------------------------------------------------------------ writes: refused

    def upload(self, href: str, item: radicale_item.Item) -> tuple[radicale_item.Item, None]:
        raise ReadOnlyCalendar(self.path)

    def delete(self, href: str | None = None) -> None:
        raise ReadOnlyCalendar(self.path)

    def set_meta(self, props: Mapping[str, str]) -> None:
        raise ReadOnlyCalendar(self.path)


class VirtualPrincipal(radicale_storage.BaseCollection):
    """The home of an iPoint user who never logged in (Radicale creates the real folder on the
    first login). Lets the mirror's service login discover every technician's calendar."""

    def __init__(self, login: str) -> None:
        self._login = login

    @property
    def path(self) -> str:
        return self._login

    @property
    def etag(self) -> str:
        return f'"home-{self._login}"'

    @property
    def last_modified(self) -> str:
        return http_date(0)

    @overload
    def get_meta(self, key: None = None) -> Mapping[str, str]: ...

    @overload
    def get_meta(self, key: str) -> str | None: ...

    def get_meta(self, key: str | None = None) -> Mapping[str, str] | str | None:
        return {} if key is None else None

    def get_multi(self, hrefs: Iterable[str]) -> Iterator[tuple[str, radicale_item.Item | None]]:
        for href in hrefs:
            yield href, None

    def get_all(self) -> Iterator[radicale_item.Item]:
        return iter(())

    def sync(self, old_token: str = "") -> tuple[str, Iterable[str]]:
        raise ValueError("a home has no sync token")
