"""The CalDAV server: Radicale with the iPoint plugin on a background thread, with a clean stop.

Radicale's own ``serve()`` builds its application inside (no room for the WSGI front) and starts
a thread per request. Here Radicale's request handler runs on fixed pools of worker threads:
the store keeps one database connection per thread, so pools bound connections, and they cap
concurrency like Radicale's ``max_connections``. A worker only ever gets a complete request,
read by the intake thread (``intake``), and answers it from memory; requests whose credentials
have not logged in lately (a bcrypt check each) go to a smaller pool of their own.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import threading
import time
import wsgiref.simple_server
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import bcrypt
from radicale.app import Application
from radicale.server import RequestHandler, ServerHandler

from ..config import CalDAVSettings, Settings
from ..runtime import open_store
from ..store import EventStore
from . import htpasswd
from .application import Front
from .intake import DELAY_KEY, Intake, RefusalDelay
from .radicale_config import htpasswd_path, radicale_configuration, rights_path
from .rights import write_rights

logger = logging.getLogger(__name__)


class BufferedRequestHandler(RequestHandler):
    """Radicale's request handler on a request the intake has read in full, with a buffered
    response stream: wsgiref writes the status line, each header block and the body separately
    and flushes after each body write, so an unbuffered socket sends three or more packets for
    a small answer; buffered, one. An answer the front marks for Radicale's brute-force delay
    is kept and handed to the intake, which sends it when the delay is over."""

    wbufsize = -1  # io.DEFAULT_BUFFER_SIZE; flushed by wsgiref and at the end of the request
    server: PooledWSGIServer

    def setup(self) -> None:
        super().setup()
        self.rfile = io.BytesIO(self.server.take_request(self.request))
        self._delay = RefusalDelay()

    def get_environ(self) -> dict[str, Any]:
        env = super().get_environ()
        env[DELAY_KEY] = self._delay
        return env

    def handle(self) -> None:
        """Radicale's ``handle`` with a response stream that can be held back."""
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        out = _Holdable(self.wfile, self._delay)
        handler = ServerHandler(
            self.rfile,
            out,  # type: ignore[arg-type]  # write and flush are all wsgiref uses
            self.get_stderr(),
            self.get_environ(),
        )
        handler.request_handler = self  # type: ignore[attr-defined]
        app = self.server.get_app()
        assert app is not None
        handler.run(app)
        if self._delay.seconds > 0:
            self.server.send_later(self.request, bytes(out.held), self._delay.seconds)


class _Holdable:
    """The response stream: written through, or held in memory once the front asks for a
    delay (only small refusals are held: the delay is decided before the status is sent)."""

    def __init__(self, stream: Any, delay: RefusalDelay) -> None:
        self._stream = stream
        self._delay = delay
        self.held = bytearray()

    def write(self, data: bytes) -> int:
        if self._delay.seconds > 0:
            self.held += data
            return len(data)
        return int(self._stream.write(data))

    def flush(self) -> None:
        if self._delay.seconds <= 0:
            self._stream.flush()


class PooledWSGIServer(wsgiref.simple_server.WSGIServer):
    """wsgiref's server with Radicale's request handler on a fixed thread pool, fed complete
    requests by the intake thread."""

    allow_reuse_address = True
    # socketserver's default backlog of 5 drops connections when a few clients connect at once
    # while the accepting thread waits for the GIL, and a dropped SYN is retried after a second.
    request_queue_size = socket.SOMAXCONN

    def __init__(self, address: tuple[str, int], settings: CalDAVSettings) -> None:
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.address_family = family
        super().__init__(address, BufferedRequestHandler)
        self._pool = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="caldav")
        # Credentials not seen logging in lately cost a bcrypt check each: they wait for
        # their own few threads, so guessing passwords cannot starve logged-in users.
        self._login_pool = ThreadPoolExecutor(
            max_workers=settings.login_workers, thread_name_prefix="caldav-login"
        )
        self._requests: dict[socket.socket, bytes] = {}
        self._delayed: set[socket.socket] = set()
        # Complete requests waiting for a worker are bounded like those still being read
        # (``max_pending``, ``max_pending_bytes``): past either, a new one gets 503 at once
        # rather than a place in an unbounded queue with its body and socket held.
        self._settings = settings
        self._queued: dict[socket.socket, tuple[int, float]] = {}
        self._queued_bytes = 0
        self._queue_lock = threading.Lock()
        self._intake = Intake(settings, self._hand_off)

    def process_request(self, request: Any, client_address: Any) -> None:
        self._intake.add(request, client_address)

    def _hand_off(
        self,
        request: socket.socket,
        client_address: Any,
        data: bytes,
        credentials: bytes | None,
    ) -> None:
        with self._queue_lock:
            full = (
                len(self._queued) >= self._settings.max_pending
                or self._queued_bytes + len(data) > self._settings.max_pending_bytes
            )
            if not full:
                self._queued[request] = (len(data), time.monotonic())
                self._queued_bytes += len(data)
        if full:
            logger.warning("CalDAV: %s refused with 503, too many requests waiting", client_address)
            _send_busy(request)
            self.shutdown_request(request)
            return
        self._requests[request] = data
        app = self.get_app()
        known = isinstance(app, Front) and credentials is not None and app.knows(credentials)
        pool = self._login_pool if credentials is not None and not known else self._pool
        pool.submit(self._work, request, client_address)

    def take_request(self, request: socket.socket) -> bytes:
        return self._requests.pop(request, b"")

    def send_later(self, request: socket.socket, answer: bytes, delay: float) -> None:
        self._delayed.add(request)
        self._intake.send_later(request, answer, delay)

    def _work(self, request: Any, client_address: Any) -> None:
        with self._queue_lock:
            size, since = self._queued.pop(request, (0, time.monotonic()))
            self._queued_bytes -= size
        try:
            if time.monotonic() - since > self._settings.request_timeout:
                # Waited past the request deadline (its client has likely gone): no bcrypt
                # check or answer is spent on it.
                _send_busy(request)
                return
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self._requests.pop(request, None)
            if request in self._delayed:
                self._delayed.discard(request)  # the intake sends and closes it
            else:
                self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.warning("CalDAV request from %s failed", client_address, exc_info=True)

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._login_pool.shutdown(wait=True, cancel_futures=True)
        self._intake.stop()


def _send_busy(request: socket.socket) -> None:
    with contextlib.suppress(OSError):
        request.setblocking(True)
        request.settimeout(1.0)
        request.sendall(
            b"HTTP/1.0 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 0\r\n"
            b"Connection: close\r\n\r\n"
        )


@dataclass
class CalDAVHandle:
    """A running CalDAV server. ``url`` is where it listens; ``stop()`` ends it."""

    url: str
    host: str
    port: int
    public_url: str
    _server: PooledWSGIServer
    _thread: threading.Thread
    _application: Any
    _store: EventStore
    _owns_store: bool
    _stopped: bool = field(default=False)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(30)
        if self._owns_store:
            self._store.close()
        logger.info("CalDAV server stopped")


def _ensure_service_login(settings: Settings) -> None:
    user, password = settings.caldav.service_user, settings.caldav.service_password
    path = htpasswd_path(settings)
    htpasswd.ensure_file(path)
    if not (user and password):
        return
    digest = htpasswd.digest_of(path, user)
    if digest is None or not bcrypt.checkpw(password.encode(), digest.encode()):
        htpasswd.set_password(path, user, password)


def prepare_files(settings: Settings) -> None:
    """Write what Radicale reads at start: the rights file and the htpasswd file (with the
    mirror's service login when ``[caldav] service_password`` is set)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    write_rights(settings, rights_path(settings))
    _ensure_service_login(settings)


def start_caldav(
    settings: Settings,
    *,
    store: EventStore | None = None,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    radicale_overrides: Mapping[str, Mapping[str, str]] | None = None,
) -> CalDAVHandle:
    """Start the CalDAV server for ``settings`` and return once it accepts connections.

    Writes the rights file, makes sure the htpasswd file exists (and holds the mirror's service
    login when ``[caldav] service_password`` is set), creates the calendars declared in
    ``[calendar:LOGIN]`` sections, and listens on ``host``/``port`` (default: ``[caldav]``;
    port 0 picks a free one).

    Args:
        store: an open store to share (the caller closes it); None opens one, closed on stop.
    """
    prepare_files(settings)
    owns = store is None
    store = open_store(settings) if store is None else store
    try:
        for login, cal in settings.calendars.items():
            store.ensure_user(login, cal.name or None)
        bind_host = host or settings.caldav.host
        bind_port = settings.caldav.port if port is None else port
        configuration = radicale_configuration(settings, store=store, overrides=radicale_overrides)
        if settings.bridge.log_level != "debug":
            # Radicale logs every request at INFO; the bridge's own log stays readable.
            logging.getLogger("radicale").setLevel(logging.WARNING)
        # Radicale's brute-force delay on 401/403 is applied by the front and waited out by
        # the intake, not slept in a worker: Radicale itself runs without it.
        delay = float(configuration.get("auth", "delay"))
        configuration.update({"auth": {"delay": "0"}}, "ipoint-bridge: delay in the front")
        application = Application(configuration)
        caldav = settings.caldav
        if workers is not None:
            caldav = replace(caldav, workers=workers)
        server = PooledWSGIServer((bind_host, bind_port), caldav)
    except BaseException:
        if owns:
            store.close()
        raise
    server.set_app(Front(application, settings, store, configuration, delay))
    real_port = int(server.server_address[1])
    shown = f"[{bind_host}]" if ":" in bind_host else bind_host
    url = f"http://{shown}:{real_port}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="caldav", daemon=True
    )
    thread.start()
    logger.info("CalDAV server listening on %s", url)
    return CalDAVHandle(
        url=url,
        host=bind_host,
        port=real_port,
        public_url=settings.caldav.base_url or url,
        _server=server,
        _thread=thread,
        _application=application,
        _store=store,
        _owns_store=owns,
    )
