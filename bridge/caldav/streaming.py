"""Response bodies the WSGI front builds from the store: UTF-8 text pieces encoded in chunks,
gzipped on the fly when asked, produced inside a read snapshot that ends with the body.

A body that fits one chunk is sent whole with its Content-Length; a longer one streams (the
HTTP/1.0 server ends it by closing the connection), and the snapshot is ended when the server
closes the iterable (PEP 3333), also when the client goes away half-way.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import ExitStack
from typing import Any

StartResponse = Callable[..., Any]
Headers = list[tuple[str, str]]
_CHUNK = 64 * 1024


def send(
    start_response: StartResponse, status: str, headers: Headers, body: Iterable[bytes]
) -> Iterable[bytes]:
    start_response(status, headers)
    return body


def streamed(
    extra_headers: Headers,
    headers: Headers,
    pieces: Iterator[str],
    snapshot: ExitStack,
    gzip: bool,
    status: str = "200 OK",
    keep: Keep | None = None,
) -> Callable[[StartResponse], Iterable[bytes]]:
    """The answer for ``pieces`` (produced inside ``snapshot``, which ends with the body). The
    first chunks are built here, before the status is sent, so a failure is still a 500.
    ``keep`` (with gzip) gets the whole gzipped body once it has been produced to the end."""
    headers = headers + extra_headers
    if gzip:
        headers.append(("Content-Encoding", "gzip"))
    chunks = _chunks(pieces, gzip)
    if gzip and keep is not None:
        chunks = _kept(chunks, keep)
    try:
        first = next(chunks, b"")
        second = next(chunks, None)
    except BaseException:
        chunks.close()
        snapshot.close()
        raise
    if second is None:
        snapshot.close()
        headers.append(("Content-Length", str(len(first))))
        return lambda start: send(start, status, headers, [first])
    body = _Held(itertools.chain((first, second), chunks), chunks, snapshot)
    return lambda start: send(start, status, headers, body)


class Keep:
    """Where a streamed gzip body goes once complete (``bodycache``), if at most ``limit``."""

    def __init__(self, limit: int, store: Callable[[bytes], None]) -> None:
        self.limit = limit
        self.store = store


def _kept(chunks: Generator[bytes, None, None], keep: Keep) -> Generator[bytes, None, None]:
    parts: list[bytes] | None = []
    size = 0
    try:
        for chunk in chunks:
            if parts is not None:
                size += len(chunk)
                if size <= keep.limit:
                    parts.append(chunk)
                else:
                    parts = None  # too large to keep: streamed only
            yield chunk
    finally:
        chunks.close()
    if parts is not None:
        keep.store(b"".join(parts))


def _chunks(pieces: Iterator[str], gzip: bool) -> Generator[bytes, None, None]:
    """``pieces`` encoded as UTF-8 in chunks of about 64 KiB, gzipped when asked."""
    # Level 1: a calendar still shrinks about fivefold, at a third of the default's CPU.
    packer = zlib.compressobj(1, wbits=16 + zlib.MAX_WBITS) if gzip else None
    buffer: list[bytes] = []
    size = 0
    try:
        for piece in pieces:
            data = piece.encode()
            buffer.append(data)
            size += len(data)
            if size >= _CHUNK:
                chunk = b"".join(buffer)
                buffer, size = [], 0
                out = packer.compress(chunk) if packer else chunk
                if out:
                    yield out
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()
    tail = b"".join(buffer)
    if packer is not None:
        tail = packer.compress(tail) + packer.flush()
    if tail:
        yield tail


class _Held:
    """A streamed body that ends its read snapshot when the server closes it (PEP 3333)."""

    def __init__(
        self, body: Iterator[bytes], source: Generator[bytes, None, None], snapshot: ExitStack
    ) -> None:
        self._body = body
        self._source = source
        self._snapshot = snapshot

    def __iter__(self) -> Iterator[bytes]:
        return self._body

    def close(self) -> None:
        try:
            self._source.close()
        finally:
            self._snapshot.close()
