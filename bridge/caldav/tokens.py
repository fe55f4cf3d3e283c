"""RFC 6578 sync tokens for iPoint calendars.

A token is a URI (RFC 6578 section 4) naming the store's instance and a change-log position, so
a token from another database, or from Radicale's own storage, is never mistaken for ours: it is
rejected with ``ValueError``, which Radicale turns into the RFC's DAV:valid-sync-token error
(403, section 3.2), and the client starts over with an initial sync.
"""

from __future__ import annotations

import re

PREFIX = "http://ipoint.invalid/ns/sync/"
_TOKEN = re.compile(re.escape(PREFIX) + r"([0-9a-f]{8,64})-([0-9]{1,19})")


def make_token(instance: str, seq: int) -> str:
    return f"{PREFIX}{instance}-{seq}"


def parse_token(token: str, instance: str) -> int:
    """The change-log position in ``token``; ``ValueError`` when it is not one of ours."""
    match = _TOKEN.fullmatch(token.strip())
    if not match:
        raise ValueError("not a sync token of this server")
    if match.group(1) != instance:
        raise ValueError("sync token of another database")
    return int(match.group(2))
