"""Deterministic Google event ids.

Google lets a client choose an event's ``id``: characters of base32hex (``a-v`` and ``0-9``,
RFC 2938 section 3.1.2), 5 to 1024 long, unique per calendar. Choosing it from the source means
a retried insert can never create a second copy: it answers 409 instead.

An overridden instance of a recurring event (a VEVENT with RECURRENCE-ID) is written to the
instance Google derives from the series, whose id is ``<series id>_<original start>`` with the
start as ``YYYYMMDDTHHMMSSZ`` (UTC) or ``YYYYMMDD`` (all-day), as ``events.instances`` lists them.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, date, datetime

_B32 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", b"0123456789abcdefghijklmnopqrstuv")


def base32hex(data: bytes) -> str:
    """Lower-case base32hex without padding."""
    return base64.b32encode(data).translate(_B32).decode().rstrip("=")


def event_id(source: str, uid: str) -> str:
    """The id of the event (or series) ``uid`` from ``source``: 32 base32hex characters."""
    digest = hashlib.sha256(f"{source}\x00{uid}".encode()).digest()
    return base32hex(digest[:20])


def instance_suffix(recurrence_id: datetime | date) -> str:
    if isinstance(recurrence_id, datetime):
        return recurrence_id.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return recurrence_id.strftime("%Y%m%d")


def instance_id(series_id: str, recurrence_id: datetime | date) -> str:
    """The id of one instance of series ``series_id`` (aware datetime or date)."""
    return f"{series_id}_{instance_suffix(recurrence_id)}"


def is_valid(event_id_: str) -> bool:
    """Google's rule for client-chosen ids (instance ids add ``_`` and the start)."""
    head = event_id_.split("_", 1)[0]
    return 5 <= len(head) <= 1024 and all(c in "0123456789abcdefghijklmnopqrstuv" for c in head)
