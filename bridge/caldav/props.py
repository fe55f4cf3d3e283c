"""The WebDAV properties of an iPoint calendar and its entity tag, defined once.

The plugin serves them to Radicale (PROPFIND, getctag, getetag); the WSGI front answers a
whole-calendar GET with the same ETag and Last-Modified, so the two can never disagree.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from functools import lru_cache

from ..config import Settings
from ..ical import calendar_text
from ..records import User
from . import layout


def http_date(epoch: float) -> str:
    """RFC 9110 5.6.7 IMF-fixdate, as Radicale writes Last-Modified."""
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(epoch))


@lru_cache(maxsize=16)
def _timezone_text(tzid: str) -> str:
    # RFC 4791 5.2.2: an iCalendar object with exactly one VTIMEZONE.
    return calendar_text((), (tzid,))


def calendar_meta(settings: Settings, user: User) -> tuple[Mapping[str, str], str]:
    """(Radicale-style properties, a short digest of them) of ``user``'s iPoint calendar."""
    name = layout.display_name(settings, user.login, user.name)
    meta = {
        "tag": "VCALENDAR",
        "D:displayname": name,
        "C:calendar-description": f"{name}: work orders and events from iPoint (read-only)",
        "ICAL:calendar-color": settings.caldav.color,
        "C:supported-calendar-component-set": "VEVENT",
        "C:calendar-timezone": _timezone_text(settings.bridge.timezone),
    }
    digest = hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()
    return meta, digest[:8]


def collection_etag(instance: str, seq: int, meta_digest: str) -> str:
    """The calendar's ETag and getctag: its change-log position (RFC 6578 4 moves it with every
    change) and the digest of its properties (a new name or colour); nothing hashed per item."""
    return f'"{instance[:8]}-{seq}-{meta_digest}"'
