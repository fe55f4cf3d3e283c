"""Radicale items built from stored events without parsing them.

The store keeps each event's VEVENT block, etag and change time, so an item's href, etag, UID,
component and last-modified are known up front; its text (the block in a VCALENDAR with its
VTIMEZONE, RFC 4791 4.1) is assembled on first use and vobject parses it only when a filter or
an expand needs the parsed form.
"""

from __future__ import annotations

import time
from typing import Any

import vobject
from radicale import item as radicale_item
from radicale import storage as radicale_storage

from bridge.caldav import layout
from bridge.ical import item_text, uid_for
from bridge.records import StoredEvent


def http_date(epoch: float) -> str:
    """RFC 9110 5.6.7 IMF-fixdate, as Radicale writes Last-Modified."""
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(epoch))


def is_recurring(event: StoredEvent) -> bool:
    return "\r\nRRULE:" in event.ics or "\r\nRDATE" in event.ics


class StoredItem(radicale_item.Item):
    """An item whose text is built lazily from the stored VEVENT block."""

    def __init__(self, collection: radicale_storage.BaseCollection, event: StoredEvent) -> None:
        super().__init__(
            collection=collection,
            href=layout.href_for(event.id),
            last_modified=http_date(event.updated),
            text="",  # Item wants text or a component; the real text is built in serialize()
            etag=f'"{event.etag}"',
            uid=uid_for(event.id),
            name="VCALENDAR",
            component_name="VEVENT",
        )
        self._text = None
        self._vevent = event.ics
        self._tzid = event.tzid

    def serialize(self) -> str:
        if self._text is None:
            self._text = item_text(self._vevent, self._tzid)
        return self._text

    @property
    def vobject_item(self) -> Any:
        if self._vobject_item is None:
            try:
                self._vobject_item = vobject.readOne(self.serialize())
            except Exception as exc:  # vobject raises many kinds; Radicale expects this one
                raise RuntimeError(f"Failed to parse item {self.href!r}: {exc}") from exc
        return self._vobject_item
