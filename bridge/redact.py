"""URLs fit for logs, error messages and the admin page: no credentials, query or secret path.

A subscribed calendar's URL is its password: Google's private address
(``/calendar/ical/<id>/private-<32 hex>/basic.ics``), the bridge's own feeds
(``/feeds/<192-bit token>.ics``), Radicale's token shares (``/.token/v1/<token>/``) all carry
the secret in the path. A path segment that looks like a token (16 or more letters, digits,
``-`` or ``_`` mixing digits with letters, or upper with lower case) is shown as ``…``; the
scheme, host, port and ordinary segments (``/chris/ipoint/``, ``basic.ics``) stay, so the admin
can still tell sources apart.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_TOKENISH = re.compile(r"[A-Za-z0-9_\-]{16,}")
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s\"'<>]+")
HIDDEN = "…"


def _segment(segment: str) -> str:
    stem, dot, ext = segment.rpartition(".") if "." in segment else (segment, "", "")
    return HIDDEN + dot + ext if _secret(stem) else segment


def _secret(stem: str) -> bool:
    for run in _TOKENISH.findall(stem):
        digits = any(c.isdigit() for c in run)
        letters = any(c.isalpha() for c in run)
        mixed_case = any(c.isupper() for c in run) and any(c.islower() for c in run)
        if (digits and letters) or mixed_case:
            return True
    return False


def redact_url(url: str) -> str:
    """``url`` without user info, query, fragment and token-like path segments."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return HIDDEN
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{port}" if port else "")
    path = "/".join(_segment(seg) for seg in parts.path.split("/"))
    return f"{parts.scheme}://{netloc}{path}"


def redact_text(text: str) -> str:
    """``text`` with every URL in it redacted (error messages that quote a URL)."""

    def one(match: re.Match[str]) -> str:
        url = match.group(0)
        tail = len(url) - len(url.rstrip(".,:;)]"))
        return redact_url(url[: len(url) - tail]) + url[len(url) - tail :]

    return _URL.sub(one, text)
