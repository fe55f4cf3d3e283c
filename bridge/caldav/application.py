"""A thin WSGI layer in front of ``radicale.Application``.

Radicale's own auth and rights decide every request; this layer adds what Radicale lacks:

- No work before authentication: the caller is logged in (Radicale's htpasswd check with its
  login cache, ``access``) before any body is read; a body of an anonymous or failed login is
  never read, and a logged-in caller's body is checked against its limits, for DTDs and for
  its hrefs (``bodies``) before the front or Radicale looks at a path in it. Radicale's
  brute-force delay on a 401 or 403 is marked here and waited out by the server's intake
  thread, not slept in a worker (Radicale itself runs with ``[auth] delay = 0``).
- Whole-calendar GET of an iPoint calendar, answered from the store once the gate
  (Radicale's auth and rights modules, ``access.Gate``) lets the user read it: the ETag and
  Last-Modified a PROPFIND reports (``props``), read in the same snapshot as the body, a 304
  for If-None-Match (RFC 9110 13.1.2), and the calendar streamed page by page (gzipped on the
  fly when asked), so a 100k-event calendar never sits in memory as one string, as
  Radicale's ``serialize`` would.
  The gzipped body is kept by ETag (``bodycache``): a repeat GET of an unchanged calendar is
  sent as it is.
- Conditional GET elsewhere (items, personal calendars): Radicale answers a GET in full every
  time; a GET with If-None-Match is first asked of Radicale as a depth-0 PROPFIND for
  DAV:getetag, and a match answers 304. The same probe gives Radicale's refusal (401, 403, 404)
  for an iPoint calendar the gate did not let through.
- Writes to an iPoint calendar: Radicale refuses them (the rights file grants only ``r``); the
  403 gets a body saying the calendar is managed by iPoint, so a user knows where to go.
- REPORTs on an iPoint calendar in the forms clients send (``reports``): answered from the
  store once the gate lets the user read the calendar; anything else, and every refusal, is
  Radicale's.
"""

from __future__ import annotations

import io
import logging
import random
import threading
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from radicale import config as radicale_config

from ..config import Settings
from ..records import User
from ..store import EventStore
from . import bodies, layout, reports
from .access import Gate
from .bodycache import BodyCache
from .export import CalendarHeader, stream_calendar
from .intake import DELAY_KEY, RefusalDelay
from .props import calendar_meta, collection_etag, http_date
from .streaming import Keep, send, streamed
from .wsgi import (
    Answer,
    Environ,
    StartResponse,
    WSGIApp,
    accepts_gzip,
    base_prefix,
    calendar_headers,
    call,
    clean_path,
    destination,
    etag_matches,
    proxied,
    read_props,
)

logger = logging.getLogger(__name__)

WRITES = frozenset({"PUT", "DELETE", "MOVE", "COPY", "PROPPATCH", "MKCOL", "MKCALENDAR"})
_PROBE = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<propfind xmlns="DAV:"><prop><getetag/><getlastmodified/></prop></propfind>'
)
_DROP = ("wsgi.input", "CONTENT_LENGTH", "CONTENT_TYPE", "HTTP_ACCEPT_ENCODING")


def _gunzipped(kept: bytes, piece: int = 64 * 1024) -> Iterator[bytes]:
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip framing
    for at in range(0, len(kept), piece):
        yield inflate.decompress(kept[at : at + piece])
    yield inflate.flush()


@dataclass(frozen=True, slots=True)
class _Body:
    """A request body read after ``user`` logged in; ``root`` its XML when it is XML."""

    user: str
    root: ET.Element | None


class Front:
    """The WSGI application the CalDAV server runs: Radicale plus the three additions above."""

    def __init__(
        self,
        app: WSGIApp,
        settings: Settings,
        store: EventStore,
        configuration: radicale_config.Configuration,
        delay: float = 0.0,
    ) -> None:
        """Args:
        delay: Radicale's ``[auth] delay`` (Radicale itself then runs without one).
        """
        self._app = app
        self._delay = delay
        self._settings = settings
        self._store = store
        self._gate = Gate(configuration)
        self._grants = layout.grants(settings)
        # Calendars seen to exist: the store never removes a user, so a calendar once found
        # stays, and a week's REPORT costs no extra database round trip to learn it again.
        self._calendars: set[str] = set()
        self._script_name = str(configuration.get("server", "script_name") or "")
        self._extra_headers = [
            (key, str(configuration.get("headers", key)))
            for key in configuration.options("headers")
        ]
        self._answering = threading.Lock()
        self._bodies = BodyCache(settings.caldav.body_cache_bytes)
        self._answered = 0

    def knows(self, authorization: bytes) -> bool:
        """Whether these credentials (an Authorization header's value) logged in lately."""
        return self._gate.knows(authorization.decode("latin-1"))

    @property
    def answered_from_store(self) -> int:
        """Requests (REPORTs, whole-calendar GETs) answered without Radicale, since start."""
        return self._answered

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "")).upper()
        user = self._login(environ)
        try:
            body = self._body(environ, method, user)
        except bodies.Refusal as refusal:
            logger.info("CalDAV %s refused: %s", method, refusal.reason)
            status, headers, text = bodies.refusal_answer(refusal)
            return send(start_response, status, headers, [text])
        path = clean_path(str(environ.get("PATH_INFO", "")))
        if (
            method in ("GET", "HEAD")
            and not environ.get("QUERY_STRING")
            and not path.startswith(".")
        ):
            hit = layout.parse(path)
            whole = hit is not None and hit[1] is None
            answer = None
            if whole and hit is not None and user is not None:
                answer = self._get_calendar(environ, hit[0], method, user)
            if answer is None and (whole or environ.get("HTTP_IF_NONE_MATCH")):
                answer = self._get(environ, hit[0] if whole and hit else None, method)
            if answer is not None:
                return answer(start_response)
        elif method == "REPORT" and body is not None:
            hit = layout.parse(path)
            if hit is not None and hit[1] is None:
                answer = self._report(environ, hit[0], body)
                if answer is not None:
                    return answer(start_response)
        elif method in WRITES:
            targets = [path, destination(environ) or ""]
            if any(layout.parse(t) for t in targets if t):
                return self._refuse_write(environ, start_response)
        return self._radicale(environ, start_response)

    def _login(self, environ: Environ) -> str | None:
        """Who the request's credentials log in as (Radicale's htpasswd check with its login
        cache), before anything else; None for no or failed credentials. A failed login
        loses its credentials: Radicale would check them again (a second bcrypt-length wait)
        and gives the same 401 without them, with its delay."""
        if not environ.get("HTTP_AUTHORIZATION"):
            return None
        user = self._gate.user(environ)
        if user is None:
            del environ["HTTP_AUTHORIZATION"]
            logger.warning("failed CalDAV login from %s", environ.get("REMOTE_ADDR"))
        return user

    def _body(self, environ: Environ, method: str, user: str | None) -> _Body | None:
        """The request body, read only after the caller has logged in and only within the
        limits (``bodies``); None when there is none or the caller is not logged in (then
        Radicale answers without it: its 401).

        Raises:
            bodies.Refusal: the body may not be read or is refused (DTD, hrefs).
        """
        length = bodies.content_length(environ)
        if not length:
            return None
        if user is None:
            environ["CONTENT_LENGTH"] = "0"
            environ["wsgi.input"] = io.BytesIO(b"")
            return None
        limits = self._settings.caldav
        bodies.check_size(limits, method, length, str(environ.get("HTTP_CONTENT_ENCODING", "")))
        try:
            data = environ["wsgi.input"].read(length)
        except OSError as exc:
            raise bodies.Refusal("408 Request Timeout", "request body not sent in time") from exc
        if len(data) < length:
            raise bodies.Refusal("400 Bad Request", "request body shorter than Content-Length")
        environ["wsgi.input"] = io.BytesIO(data)  # for Radicale
        root = bodies.check_xml(limits, data) if method in bodies.XML_METHODS else None
        return _Body(user, root)

    def _radicale(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Radicale's answer; a 401 or 403 is marked for Radicale's brute-force delay
        (``[auth] delay``, randomised as Radicale does), which the server waits out without
        holding a worker."""

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if status[:3] in ("401", "403") and self._delay > 0:
                holder = environ.get(DELAY_KEY)
                if isinstance(holder, RefusalDelay):
                    holder.seconds = self._delay * (0.5 + random.random())
            return start_response(status, headers, exc_info)

        return self._app(environ, start)

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
        return call(self._radicale, probe)

    def _get(
        self, environ: Environ, where: layout.CalendarPath | None, method: str
    ) -> Callable[[StartResponse], Iterable[bytes]] | None:
        probe = self._probe(environ)
        if where is not None and probe.code in (401, 403, 404):
            # The refusal a GET of this calendar would get (Radicale's brute-force delay once).
            return lambda start: send(start, probe.status, probe.headers, [probe.body])
        if probe.code != 207:
            return None
        etag, modified = read_props(probe.body)
        if etag is None:
            return None
        headers = [("ETag", etag)] + ([("Last-Modified", modified)] if modified else [])
        inm = environ.get("HTTP_IF_NONE_MATCH")
        if inm and etag_matches(str(inm), etag):
            return lambda start: send(start, "304 Not Modified", headers, [])
        if where is None:
            return None
        user = self._store.user(where.calendar)
        name = layout.display_name(self._settings, where.calendar, user.name if user else None)
        snapshot = ExitStack()
        snapshot.enter_context(self._store.db.snapshot())  # one state for the whole body
        return self._calendar(environ, where, name, headers, snapshot, method)

    def _get_calendar(
        self, environ: Environ, where: layout.CalendarPath, method: str, user: str
    ) -> Callable[[StartResponse], Iterable[bytes]] | None:
        """A whole iPoint calendar (or its 304) for a user the gate lets in, with the ETag and
        Last-Modified a PROPFIND reports, read in the same snapshot as the body."""
        if not self._gate.may_read(user, where):
            return None
        with self._answering:
            snapshot = ExitStack()
            snapshot.enter_context(self._store.db.snapshot())
            try:
                owner = self._owner(where)
                state = self._store.calendar_state(where.calendar) if owner else None
            except BaseException:
                snapshot.close()
                raise
            if owner is None or state is None:
                snapshot.close()
                return None  # Radicale's 404
            self._answered += 1
            meta, digest = calendar_meta(self._settings, owner)
            headers = [
                ("ETag", collection_etag(self._store.instance, state.seq, digest)),
                ("Last-Modified", http_date(state.last_modified)),
            ]
            etag = headers[0][1]
            inm = environ.get("HTTP_IF_NONE_MATCH")
            if inm and etag_matches(str(inm), etag):
                snapshot.close()
                return lambda start: send(start, "304 Not Modified", headers, [])
            kept = self._bodies.get(where.calendar, etag) if method == "GET" else None
            if kept is not None:
                snapshot.close()
                return self._kept_calendar(
                    meta["D:displayname"], headers, kept, accepts_gzip(environ)
                )
            keep = Keep(
                self._bodies.largest,
                lambda body: self._bodies.put(where.calendar, etag, body),
            )
            name = meta["D:displayname"]
            return self._calendar(environ, where, name, headers, snapshot, method, keep)

    def _kept_calendar(
        self, name: str, headers: list[tuple[str, str]], kept: bytes, gzip_ok: bool
    ) -> Callable[[StartResponse], Iterable[bytes]]:
        """A repeat GET of an unchanged calendar, from its gzipped body kept by ETag: as it is
        for a gzip client, else decompressed piece by piece while it is sent (after the answer
        lock is released, never whole in memory)."""
        headers = [*headers, *calendar_headers(name), *self._extra_headers]
        if not gzip_ok:
            return lambda start: send(start, "200 OK", headers, _gunzipped(kept))
        headers += [("Content-Encoding", "gzip"), ("Content-Length", str(len(kept)))]
        return lambda start: send(start, "200 OK", headers, [kept])

    def _calendar(
        self,
        environ: Environ,
        where: layout.CalendarPath,
        name: str,
        headers: list[tuple[str, str]],
        snapshot: ExitStack,
        method: str,
        keep: Keep | None = None,
    ) -> Callable[[StartResponse], Iterable[bytes]]:
        """The 200 answer with the calendar read inside ``snapshot`` (ended with the body)."""
        headers = [*headers, *calendar_headers(name)]
        if method == "HEAD":
            snapshot.close()
            return lambda start: send(start, "200 OK", headers, [])
        header = CalendarHeader(name=name, timezone=self._settings.bridge.timezone)
        try:
            pieces = stream_calendar(self._store, where.calendar, header)
        except BaseException:
            snapshot.close()
            raise
        gzip_ = accepts_gzip(environ)
        return streamed(self._extra_headers, headers, pieces, snapshot, gzip_, keep=keep)

    # ------------------------------------------------------------ REPORT

    def _report(
        self, environ: Environ, where: layout.CalendarPath, body: _Body
    ) -> Callable[[StartResponse], Iterable[bytes]] | None:
        if body.root is None:
            return None  # not well-formed: Radicale's 400
        prefix = base_prefix(environ)
        if prefix is None or (self._script_name and proxied(environ)):
            return None  # Radicale's reverse-proxy prefix rules
        query = reports.parse(body.root, prefix, where)
        if query is None or not self._gate.may_read(body.user, where):
            return None
        snapshot = ExitStack()
        snapshot.enter_context(self._store.db.snapshot())  # token, expansion and items agree
        limit = self._settings.caldav.max_expansion_steps
        try:
            # Recurrences are expanded before the lock: a long series costs its own caller.
            expanded = reports.expand(self._store, where, query, limit)
        except BaseException:
            snapshot.close()
            raise
        # One answer is built at a time: it is Python under the GIL, so building several at
        # once gains nothing and costs hand-offs between threads (measured: 8 clients' week
        # queries, ~430 -> ~590 answers/s on 2 cores). Logins (bcrypt) and expansion stay
        # outside; a long answer holds the lock only until its first chunks, then streams.
        with self._answering:
            try:
                visible = self._visible(where)
                pieces = (
                    reports.answer(self._store, where, query, prefix, expanded, limit)
                    if visible
                    else None
                )
            except BaseException:
                snapshot.close()
                raise
            if pieces is None:
                snapshot.close()
                return None
            self._answered += 1
            logger.debug("REPORT on %s answered from the store", where.path)
            headers = [("Content-Type", "text/xml; charset=utf-8")]
            return streamed(
                self._extra_headers,
                headers,
                pieces,
                snapshot,
                accepts_gzip(environ),
                "207 Multi-Status",
            )

    def _owner(self, where: layout.CalendarPath) -> User | None:
        """The plugin's test: the calendar exists and, in another's home, is granted to it."""
        if where.is_grant and where.calendar not in self._grants.get(where.home, ()):
            return None
        return self._store.user(where.calendar)

    def _visible(self, where: layout.CalendarPath) -> bool:
        """``_owner(where) is not None``, remembered once true."""
        if where.is_grant and where.calendar not in self._grants.get(where.home, ()):
            return False
        if where.calendar in self._calendars:
            return True
        if self._owner(where) is None:
            return False
        self._calendars.add(where.calendar)
        return True

    # ------------------------------------------------------------ writes

    def _refuse_write(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        answer = call(self._radicale, environ)
        if answer.code != 403:
            return send(start_response, answer.status, answer.headers, [answer.body])
        body = layout.READ_ONLY_TEXT.encode()
        headers = [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ]
        logger.info("refused %s on an iPoint calendar", environ.get("REQUEST_METHOD"))
        return send(start_response, answer.status, headers, [body])
