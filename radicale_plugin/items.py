"""Radicale items built from stored events without parsing them.

The store keeps each event's VEVENT block, etag and change time, so an item's href, etag, UID,
component and last-modified are known up front; its text (the block in a VCALENDAR with its
VTIMEZONE, RFC 4791 4.1) is assembled on first use and vobject parses it only when a filter or
an expand needs the parsed form.
"""

from __future__ import annotations

from typing import Any

import vobject
from radicale import item as radicale_item
from radicale import storage as radicale_storage

from bridge.caldav import layout
from bridge.caldav.props import http_date
from bridge.ical import item_text, uid_for
from bridge.records import StoredEvent
from bridge.store import EventStore


class TextBatch:
    """The VEVENT blocks of up to a few hundred listed items, read on first use.

    Radicale materialises every item of a REPORT or PROPFIND before answering; items that hold
    only their href and etag keep that list small at 100k events. The first item serialised
    reads its batch's blocks in one query, and the batch goes with its last item.
    """

    __slots__ = ("_calendar", "_ids", "_store", "_texts")

    def __init__(self, store: EventStore, calendar: str, ids: list[str]) -> None:
        self._store = store
        self._calendar = calendar
        self._ids = ids
        self._texts: dict[str, tuple[str, str]] | None = None

    def block(self, event_id: str) -> tuple[str, str]:
        """(VEVENT block, TZID) of one event of the batch."""
        if self._texts is None:
            self._texts = self._store.blocks(self._calendar, self._ids)
        try:
            return self._texts[event_id]
        except KeyError:
            # Deleted between the listing and the answer: the client retries on the 500.
            raise RuntimeError(f"event {event_id!r} was removed while being listed") from None


class StoredItem(radicale_item.Item):
    """An item whose text is assembled when asked for (never cached: PROPFIND keeps every
    listed item alive until it answers), from its own block or its batch's."""

    def __init__(
        self,
        collection: radicale_storage.BaseCollection,
        stamp: tuple[str, str, float],
        text: tuple[str, str] | TextBatch,
    ) -> None:
        event_id, etag, updated = stamp
        super().__init__(
            collection=collection,
            href=layout.href_for(event_id),
            last_modified=http_date(updated),
            text="",  # Item wants text or a component; serialize() builds the real one
            etag=f'"{etag}"',
            uid=uid_for(event_id),
            name="VCALENDAR",
            component_name="VEVENT",
        )
        self._text = None
        self._event_id = event_id
        self._source = text

    @classmethod
    def of(cls, collection: radicale_storage.BaseCollection, event: StoredEvent) -> StoredItem:
        return cls(collection, (event.id, event.etag, event.updated), (event.ics, event.tzid))

    def serialize(self) -> str:
        source = self._source
        vevent, tzid = source.block(self._event_id) if isinstance(source, TextBatch) else source
        return item_text(vevent, tzid)

    @property
    def vobject_item(self) -> Any:
        if self._vobject_item is None:
            try:
                self._vobject_item = vobject.readOne(self.serialize())
            except Exception as exc:  # vobject raises many kinds; Radicale expects this one
                raise RuntimeError(f"Failed to parse item {self.href!r}: {exc}") from exc
        return self._vobject_item
