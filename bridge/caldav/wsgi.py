"""WSGI plumbing for the front (``application``): reading a request's environ the way
Radicale reads it (paths, base prefix, proxy headers, Accept-Encoding, If-None-Match) and
running a WSGI app to completion.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from radicale import pathutils

from .bodycache import wants_gzip

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


@dataclass(frozen=True, slots=True)
class Answer:
    status: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def code(self) -> int:
        return int(self.status.split(" ", 1)[0])


def call(app: WSGIApp, environ: Environ) -> Answer:
    """Run ``app`` to completion and collect its answer."""
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen["status"], seen["headers"] = status, headers
        return lambda data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return Answer(seen["status"], list(seen["headers"]), body)


def clean_path(raw: str) -> str:
    return pathutils.strip_path(pathutils.sanitize_path(raw))


def destination(environ: Environ) -> str | None:
    dest = environ.get("HTTP_DESTINATION")
    if not dest:
        return None
    path = unquote(urlsplit(dest).path)
    prefix = base_prefix(environ)
    if prefix and path.startswith(prefix + "/"):
        path = path[len(prefix) :]
    return clean_path(path)


def base_prefix(environ: Environ) -> str | None:
    """The base path in front of Radicale's paths, as Radicale takes it (X-Script-Name, else
    SCRIPT_NAME); None when Radicale would refuse it."""
    prefix = str(environ.get("HTTP_X_SCRIPT_NAME", environ.get("SCRIPT_NAME", "")))
    if prefix and not prefix.startswith("/"):
        return None
    return prefix.rstrip("/")


def accepts_gzip(environ: Environ) -> bool:
    return wants_gzip(str(environ.get("HTTP_ACCEPT_ENCODING", "")))


def calendar_headers(name: str) -> list[tuple[str, str]]:
    disposition = "attachment; filename*=utf-8''" + quote(name + ".ics")
    return [
        ("Content-Type", "text/calendar; charset=utf-8"),
        ("Content-Disposition", disposition),
    ]


def etag_matches(header: str, etag: str) -> bool:
    # RFC 9110 13.1.2: If-None-Match uses the weak comparison.
    wanted = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in wanted or etag.removeprefix("W/") in wanted


def proxied(environ: Environ) -> bool:
    return any(
        environ.get(h)
        for h in (
            "HTTP_X_FORWARDED_FOR",
            "HTTP_X_FORWARDED_HOST",
            "HTTP_X_FORWARDED_PROTO",
            "HTTP_X_FORWARDED_SERVER",
        )
    )


def read_props(body: bytes) -> tuple[str | None, str | None]:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None, None
    etag = root.findtext(".//{DAV:}getetag")
    modified = root.findtext(".//{DAV:}getlastmodified")
    return etag or None, modified or None
