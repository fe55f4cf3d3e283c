"""Reading requests before a worker takes them, and sending refusals after their delay.

A worker thread that reads its own request is held by whoever sends it slowest: eight
connections dripping a byte every few seconds starve eight workers. Here one thread watches
every new connection with ``selectors`` and hands a worker only a complete request (request
line, headers and the body it declares), within ``[caldav] request_timeout`` from the accept
(408 after). The body is read only when the request carries credentials and fits its limit
(``bodies.body_limit``): the front refuses the rest without reading it, so an anonymous client
never gets a body buffered. Connections being read are bounded in count (``max_pending``) and
buffered bytes (``max_pending_bytes``); above either, the longest-waiting one is closed.

The same thread sends the answers that Radicale's brute-force delay holds back (401 and 403):
the worker builds them and goes on with the next request, and the answer leaves after the
delay, so failed logins cost a timer each instead of a sleeping worker.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..config import CalDAVSettings
from .bodies import body_limit

logger = logging.getLogger(__name__)

HandOff = Callable[[socket.socket, Any, bytes, bytes | None], None]
_END = b"\r\n\r\n"


@dataclass(slots=True)
class _Pending:
    sock: socket.socket
    address: Any
    deadline: float
    data: bytearray = field(default_factory=bytearray)
    need: int = -1  # total bytes of the request, once its head is read
    credentials: bytes | None = None  # the Authorization header's value
    answer: bytes = b""  # a delayed answer to send at ``deadline`` (no reading then)


def _head_facts(head: bytes) -> tuple[str, int | None, bytes | None, bool]:
    """(method, Content-Length or None when absent or bad, credentials, chunked)."""
    lines = head.split(b"\r\n")
    method = lines[0].split(b" ", 1)[0].decode("latin-1").upper()
    length: int | None = None
    credentials: bytes | None = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            text = value.strip()
            length = int(text) if text.isdigit() and len(text) < 19 else None
        elif key == b"authorization":
            credentials = value.strip() or None
        elif key == b"transfer-encoding":
            chunked = True
    return method, length, credentials, chunked


class Intake:
    """The reading thread. ``add`` takes an accepted connection; complete requests go to
    ``hand_off(sock, address, request_bytes, credentials)`` (the socket back in blocking
    mode; ``credentials`` the Authorization header's value, if any)."""

    def __init__(self, settings: CalDAVSettings, hand_off: HandOff) -> None:
        self._settings = settings
        self._hand_off = hand_off
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._incoming: list[_Pending] = []
        self._lock = threading.Lock()
        self._pending: dict[socket.socket, _Pending] = {}  # in arrival order
        self._buffered = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="caldav-intake", daemon=True)
        self._thread.start()

    def add(self, sock: socket.socket, address: Any) -> None:
        deadline = time.monotonic() + self._settings.request_timeout
        self._queue(_Pending(sock, address, deadline))

    def send_later(self, sock: socket.socket, answer: bytes, delay: float) -> None:
        """Send ``answer`` on ``sock`` after ``delay`` seconds, then close it."""
        self._queue(_Pending(sock, None, time.monotonic() + delay, answer=answer))

    def stop(self) -> None:
        self._stopping = True
        self._wake()
        self._thread.join(10)
        for pending in list(self._pending.values()):
            self._close(pending)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    @property
    def pending(self) -> int:
        return len(self._pending)

    # ------------------------------------------------------------ the thread

    def _queue(self, pending: _Pending) -> None:
        with self._lock:
            self._incoming.append(pending)
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def _run(self) -> None:
        while not self._stopping:
            timeout = 0.5
            if self._pending:
                soonest = min(p.deadline for p in self._pending.values())
                timeout = max(0.0, min(timeout, soonest - time.monotonic()))
            for key, _ in self._selector.select(timeout):
                if key.fileobj is self._wake_r:
                    self._drain_wake()
                else:
                    pending = self._pending.get(key.fileobj)  # type: ignore[call-overload]
                    if pending is not None:
                        self._read(pending)
            self._take_incoming()
            self._expire(time.monotonic())

    def _drain_wake(self) -> None:
        with contextlib.suppress(OSError):
            while self._wake_r.recv(4096):
                pass

    def _take_incoming(self) -> None:
        with self._lock:
            incoming, self._incoming = self._incoming, []
        for pending in incoming:
            pending.sock.setblocking(False)
            self._pending[pending.sock] = pending
            if not pending.answer:
                self._selector.register(pending.sock, selectors.EVENT_READ)
        self._evict()

    def _evict(self) -> None:
        settings = self._settings
        while self._pending and (
            len(self._pending) > settings.max_pending or self._buffered > settings.max_pending_bytes
        ):
            oldest = next(iter(self._pending.values()))
            logger.info("CalDAV: too many connections being read; closed the longest waiting")
            self._close(oldest)

    def _expire(self, now: float) -> None:
        for pending in [p for p in self._pending.values() if p.deadline <= now]:
            if pending.answer:
                self._finish(pending, pending.answer)
            else:
                self._finish(pending, _plain("408 Request Timeout", "request not sent in time"))

    def _read(self, pending: _Pending) -> None:
        try:
            data = pending.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(pending)
            return
        if not data:
            self._close(pending)  # the client gave up before its request was complete
            return
        pending.data += data
        self._buffered += len(data)
        if pending.need < 0:
            self._head(pending)
        if 0 <= pending.need <= len(pending.data):
            self._complete(pending, bytes(pending.data[: pending.need]))
        elif self._buffered > self._settings.max_pending_bytes:
            self._evict()

    def _head(self, pending: _Pending) -> None:
        end = pending.data.find(_END)
        limit = self._settings.max_head_bytes
        if end < 0:
            if len(pending.data) > limit:
                self._finish(
                    pending,
                    _plain(
                        "431 Request Header Fields Too Large",
                        f"request line and headers over {limit} bytes ([caldav] max_head_bytes)",
                    ),
                )
            return
        head_size = end + len(_END)
        method, length, credentials, chunked = _head_facts(bytes(pending.data[:end]))
        pending.credentials = credentials
        if chunked or length is None or not credentials:
            # The front answers these without reading a body (411, 400, or Radicale's 401).
            pending.need = head_size
        elif length > body_limit(self._settings, method):
            pending.need = head_size  # the front answers 413 from the header alone
        else:
            pending.need = head_size + length

    def _complete(self, pending: _Pending, request: bytes) -> None:
        self._forget(pending)
        try:
            pending.sock.setblocking(True)
            pending.sock.settimeout(self._settings.request_timeout)
        except OSError:
            pending.sock.close()
            return
        self._hand_off(pending.sock, pending.address, request, pending.credentials)

    def _finish(self, pending: _Pending, answer: bytes) -> None:
        with contextlib.suppress(OSError):
            pending.sock.send(answer)  # small, into an empty send buffer: best effort
        self._close(pending)

    def _forget(self, pending: _Pending) -> None:
        if self._pending.pop(pending.sock, None) is None:
            return
        self._buffered -= len(pending.data)
        if not pending.answer:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(pending.sock)

    def _close(self, pending: _Pending) -> None:
        self._forget(pending)
        with contextlib.suppress(OSError):
            pending.sock.shutdown(socket.SHUT_RDWR)
        pending.sock.close()


def _plain(status: str, reason: str) -> bytes:
    body = (reason + "\n").encode()
    return (
        f"HTTP/1.0 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


DELAY_KEY = "ipoint_bridge.refusal_delay"


class RefusalDelay:
    """Put in each request's environ (``DELAY_KEY``): the front sets ``seconds`` when the
    answer is a refusal to be held back; the request handler then hands it to the intake."""

    __slots__ = ("seconds",)

    def __init__(self) -> None:
        self.seconds = 0.0
