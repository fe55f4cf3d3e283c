"""Gzipped whole-calendar bodies kept per calendar by ETag, in this process.

Subscribers poll: phones, supervisors and Google's and Outlook's fetchers ask for the same
unchanged calendar again and again, many without If-None-Match. A calendar's ETag changes with
every change to it (its sequence in the store) and with everything else in the body (name,
window), so a body kept under its ETag is served as it is until the ETag moves. One entry per
calendar (a new ETag replaces the old body); least recently used entries are dropped past
``max_bytes`` (``[caldav] body_cache_bytes``, ``[feeds] cache_bytes``), and a body larger than
a quarter of it is not kept.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict

# Level 1: a calendar still shrinks about fivefold, at a third of the default's CPU.
LEVEL = 1


class BodyCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    @property
    def largest(self) -> int:
        """The largest body kept."""
        return self.max_bytes // 4

    def get(self, calendar: str, etag: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(calendar)
            if entry is None or entry[0] != etag:
                return None
            self._entries.move_to_end(calendar)
            return entry[1]

    def put(self, calendar: str, etag: str, body: bytes) -> None:
        if len(body) > self.largest:
            return
        with self._lock:
            old = self._entries.pop(calendar, None)
            if old is not None:
                self._size -= len(old[1])
            self._entries[calendar] = (etag, body)
            self._size += len(body)
            while self._size > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._size -= len(dropped)


def compress(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=LEVEL, mtime=0)


def wants_gzip(accept_encoding: str) -> bool:
    # Radicale's test: "gzip" as one of the listed codings.
    return "gzip" in (c.strip() for c in accept_encoding.split(","))
