"""Who is really asking: the client's address and scheme behind trusted reverse proxies.

A request's ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only when its peer (the
TCP connection's address) is one of ``[web] trusted_proxies``. The client is then the rightmost
address in ``X-Forwarded-For`` that is not itself a trusted proxy: each proxy appends the address
it saw, so everything left of the first untrusted hop may be forged by the client and is
ignored. Without trusted proxies the peer is the client and the headers are ignored.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence

from aiohttp import web

from .keys import SETTINGS

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in networks)


def _hops(request: web.Request, header: str) -> list[str]:
    # Several headers of the same name are one list (RFC 9110 5.3), in order.
    return [h.strip() for value in request.headers.getall(header, ()) for h in value.split(",")]


def _trusted_peer(request: web.Request) -> tuple[str, tuple[Network, ...]] | None:
    peer = request.remote or ""
    networks = _networks(request.app[SETTINGS].web.trusted_proxies)
    if not networks or not _trusted(peer, networks):
        return None
    return peer, networks


def client_address(request: web.Request) -> str:
    """The address of the client behind any trusted proxies (the peer's without them)."""
    peer = request.remote or "unknown"
    trusted = _trusted_peer(request)
    if trusted is None:
        return peer
    _, networks = trusted
    hops = [h for h in _hops(request, "X-Forwarded-For") if h]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop[:64]
    return hops[0][:64] if hops else peer


def is_https(request: web.Request) -> bool:
    """Whether the client reached us over https: directly, or as a trusted proxy says."""
    if request.secure:
        return True
    if _trusted_peer(request) is None:
        return False
    protos = _hops(request, "X-Forwarded-Proto")
    return bool(protos) and protos[-1].lower() == "https"
