"""A thin WSGI layer in front of ``radicale.Application``.

Radicale keeps authentication and rights for every request; this layer adds three things it
lacks, each after Radicale has authorised the request:

- Conditional GET (RFC 9110 13.1.2): Radicale answers a GET in full every time. A GET with
  If-None-Match is first asked of Radicale as a depth-0 PROPFIND for DAV:getetag (cheap: the
  plugin's etag is the calendar's change-log position); a match answers 304.
- Streaming whole-calendar GET of an iPoint calendar: after the same PROPFIND authorises it, the
  calendar is streamed from the store page by page (and gzipped on the fly when asked), so a
  100k-event calendar never sits in memory as one string, as Radicale's ``serialize`` would.
- Writes to an iPoint calendar: Radicale refuses them (the rights file grants only ``r``); the
  403 gets a body saying the calendar is managed by iPoint, so a user knows where to go.
"""

from __future__ import annotations

import io
import logging
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from radicale import pathutils

from ..config import Settings
from ..store import EventStore
from . import layout
from .export import CalendarHeader, stream_calendar

logger = logging.getLogger(__name__)

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

WRITES = frozenset({"PUT", "DELETE", "MOVE", "COPY", "PROPPATCH", "MKCOL", "MKCALENDAR"})
_PROBE = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<propfind xmlns="DAV:"><prop><getetag/><getlastmodified/></prop></propfind>'
)
_DROP = ("wsgi.input", "CONTENT_LENGTH", "CONTENT_TYPE", "HTTP_ACCEPT_ENCODING")
_CHUNK = 64 * 1024


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


def _path(raw: str) -> str:
    return pathutils.strip_path(pathutils.sanitize_path(raw))


def _destination(environ: Environ) -> str | None:
    dest = environ.get("HTTP_DESTINATION")
    if not dest:
        return None
    path = unquote(urlsplit(dest).path)
    prefix = environ.get("HTTP_X_SCRIPT_NAME") or environ.get("SCRIPT_NAME") or ""
    if prefix and path.startswith(prefix):
        path = path[len(prefix) :]
    return _path(path)


def _etag_matches(header: str, etag: str) -> bool:
    # RFC 9110 13.1.2: If-None-Match uses the weak comparison.
    wanted = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in wanted or etag.removeprefix("W/") in wanted


class Front:
    """The WSGI application the CalDAV server runs: Radicale plus the three additions above."""

    def __init__(self, app: WSGIApp, settings: Settings, store: EventStore) -> None:
        self._app = app
        self._settings = settings
        self._store = store

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "")).upper()
        path = _path(str(environ.get("PATH_INFO", "")))
        if (
            method in ("GET", "HEAD")
            and not environ.get("QUERY_STRING")
            and not path.startswith(".")
        ):
            hit = layout.parse(path)
            whole = hit is not None and hit[1] is None
            if whole or environ.get("HTTP_IF_NONE_MATCH"):
                answer = self._get(environ, hit[0] if whole and hit else None, method)
                if answer is not None:
                    return answer(start_response)
        elif method in WRITES:
            targets = [path, _destination(environ) or ""]
            if any(layout.parse(t) for t in targets if t):
                return self._refuse_write(environ, start_response)
        return self._app(environ, start_response)

    # ------------------------------------------------------------ GET

    def _probe(self, environ: Environ) -> Answer:
        probe = {k: v for k, v in environ.items() if k not in _DROP}
        probe.update(
            {
                "REQUEST_METHOD": "PROPFIND",
                "HTTP_DEPTH": "0",
                "CONTENT_TYPE": "application/xml",
                "CONTENT_LENGTH": str(len(_PROBE)),
                "wsgi.input": io.BytesIO(_PROBE),
            }
        )
        return call(self._app, probe)

    def _get(
        self, environ: Environ, where: layout.CalendarPath | None, method: str
    ) -> Callable[[StartResponse], Iterable[bytes]] | None:
        probe = self._probe(environ)
        if where is not None and probe.code in (401, 403, 404):
            # The refusal a GET of this calendar would get (Radicale's brute-force delay once).
            return lambda start: _send(start, probe.status, probe.headers, [probe.body])
        if probe.code != 207:
            return None
        etag, modified = _read_props(probe.body)
        if etag is None:
            return None
        headers = [("ETag", etag)] + ([("Last-Modified", modified)] if modified else [])
        inm = environ.get("HTTP_IF_NONE_MATCH")
        if inm and _etag_matches(str(inm), etag):
            return lambda start: _send(start, "304 Not Modified", headers, [])
        if where is None:
            return None
        user = self._store.user(where.calendar)
        name = layout.display_name(self._settings, where.calendar, user.name if user else None)
        headers += [
            ("Content-Type", "text/calendar; charset=utf-8"),
            ("Content-Disposition", "attachment; filename*=utf-8''" + quote(name + ".ics")),
        ]
        if method == "HEAD":
            return lambda start: _send(start, "200 OK", headers, [])
        gzip = "gzip" in str(environ.get("HTTP_ACCEPT_ENCODING", ""))
        if gzip:
            headers.append(("Content-Encoding", "gzip"))
        header = CalendarHeader(name=name, timezone=self._settings.bridge.timezone)
        body = self._stream(where.calendar, header, gzip)
        return lambda start: _send(start, "200 OK", headers, body)

    def _stream(self, calendar: str, header: CalendarHeader, gzip: bool) -> Iterator[bytes]:
        # Level 1: a calendar still shrinks about fivefold, at a third of the default's CPU.
        packer = zlib.compressobj(1, wbits=16 + zlib.MAX_WBITS) if gzip else None
        buffer: list[bytes] = []
        size = 0
        with self._store.db.snapshot():  # one state of the store for the whole body
            for piece in stream_calendar(self._store, calendar, header):
                data = piece.encode()
                buffer.append(data)
                size += len(data)
                if size >= _CHUNK:
                    chunk = b"".join(buffer)
                    buffer, size = [], 0
                    out = packer.compress(chunk) if packer else chunk
                    if out:
                        yield out
        tail = b"".join(buffer)
        if packer is not None:
            tail = packer.compress(tail) + packer.flush()
        if tail:
            yield tail

    # ------------------------------------------------------------ writes

    def _refuse_write(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        answer = call(self._app, environ)
        if answer.code != 403:
            return _send(start_response, answer.status, answer.headers, [answer.body])
        body = layout.READ_ONLY_TEXT.encode()
        headers = [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ]
        logger.info("refused %s on an iPoint calendar", environ.get("REQUEST_METHOD"))
        return _send(start_response, answer.status, headers, [body])


def _send(
    start_response: StartResponse,
    status: str,
    headers: list[tuple[str, str]],
    body: Iterable[bytes],
) -> Iterable[bytes]:
    start_response(status, headers)
    return body


def _read_props(body: bytes) -> tuple[str | None, str | None]:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None, None
    etag = root.findtext(".//{DAV:}getetag")
    modified = root.findtext(".//{DAV:}getlastmodified")
    return etag or None, modified or None
