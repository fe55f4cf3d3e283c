"""Opaque page and sync tokens: signed, URL-safe, meaningless to clients.

A token is a small JSON object plus a truncated HMAC under the store's secret, so a forged or
damaged token is recognised (a damaged sync token answers 410 ``fullSyncRequired``, as an expired
one does).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

_MAC_LEN = 12


def encode(secret: str, payload: dict[str, Any]) -> str:
    data = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    mac = hmac.new(secret.encode(), data, hashlib.sha256).digest()[:_MAC_LEN]
    return base64.urlsafe_b64encode(mac + data).decode().rstrip("=")


def decode(secret: str, token: str) -> dict[str, Any] | None:
    """The payload, or ``None`` when the token is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return None
    mac, data = raw[:_MAC_LEN], raw[_MAC_LEN:]
    good = hmac.new(secret.encode(), data, hashlib.sha256).digest()[:_MAC_LEN]
    if not hmac.compare_digest(mac, good):
        return None
    try:
        payload = json.loads(data)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def query_fingerprint(pairs: list[tuple[str, str]]) -> str:
    """A short hash of the query parameters a page token is bound to."""
    text = "&".join(f"{k}={v}" for k, v in sorted(pairs))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
