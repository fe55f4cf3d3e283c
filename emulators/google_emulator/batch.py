"""``POST /batch/calendar/v3``: Google's batch format (multipart/mixed of ``application/http``).

From the "Send batch requests" guide: each part is a complete HTTP request with only the path part
of the URL; the outer request's headers (except ``Content-*``) apply to every part unless the part
sets its own (so the outer ``Authorization`` authorizes parts that carry none); each call counts
against quota one by one; at most 1000 calls per batch; the answer is one multipart/mixed
response whose parts are full HTTP responses, in request order, each with
``Content-ID: <response-{part's Content-ID}>``. The server may run parts in any order; this one
runs them in order.
"""

from __future__ import annotations

import email.parser
import email.policy
import logging
import secrets
from email.message import Message
from urllib.parse import parse_qsl, urlsplit

from aiohttp import web
from multidict import CIMultiDict, MultiDict

from google_emulator import errors
from google_emulator.api import ApiRequest, ApiResponse
from google_emulator.engine import Engine, _error_response

logger = logging.getLogger(__name__)
_REASONS = {
    200: "OK",
    204: "No Content",
    304: "Not Modified",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    410: "Gone",
    412: "Precondition Failed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _split_head(raw: bytes) -> tuple[bytes, bytes]:
    # Parts may use CRLF or bare LF (google-api-python-client writes LF).
    found = [(i, n) for i, n in ((raw.find(b"\r\n\r\n"), 4), (raw.find(b"\n\n"), 2)) if i >= 0]
    if not found:
        return raw, b""
    index, width = min(found)
    return raw[:index], raw[index + width :]


def _parse_inner(raw: bytes) -> tuple[str, str, CIMultiDict[str], bytes]:
    """(verb, target, headers, body) of an ``application/http`` part; ``ValueError`` if bad."""
    head, body = _split_head(raw.lstrip(b"\r\n"))
    lines = head.decode("utf-8").replace("\r\n", "\n").split("\n")
    request_line = lines[0].split()
    if len(request_line) < 2:
        raise ValueError("bad request line")
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.add(name.strip(), value.strip())
    length = headers.get("Content-Length")
    body = body[: int(length)] if length and length.isdigit() else body.rstrip(b"\r\n")
    return request_line[0].upper(), request_line[1], headers, body


def _serialize(response: ApiResponse) -> bytes:
    lines = [f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Unknown')}"]
    lines += [f"{name}: {value}" for name, value in response.headers]
    lines.append(f"Content-Length: {len(response.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + response.body


def _error(status: int, message: str) -> web.Response:
    exc = errors.ApiError(status, "badRequest", message)
    answer = _error_response(exc)
    return web.Response(status=status, body=answer.body, headers=dict(answer.headers))


async def handle(request: web.Request, engine: Engine) -> web.StreamResponse:
    content_type = request.headers.get("Content-Type", "")
    if not content_type.lower().startswith("multipart/mixed") or "boundary" not in content_type:
        return _error(400, "Batch requests must be multipart/mixed with a boundary.")
    raw = await request.read()
    parser = email.parser.BytesParser(policy=email.policy.compat32)
    message = parser.parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
    parts = message.get_payload() if message.is_multipart() else None
    if not isinstance(parts, list) or not parts:
        return _error(400, "Batch request has no parts.")
    if len(parts) > engine.settings.batch_max_parts:
        return _error(
            400,
            f"A batch request cannot contain more than {engine.settings.batch_max_parts} calls.",
        )
    engine.counters.batches += 1
    outer = CIMultiDict(
        (k, v) for k, v in request.headers.items() if not k.lower().startswith("content-")
    )
    base = f"{request.scheme}://{request.host}"
    boundary = "batch_" + secrets.token_urlsafe(18)
    chunks: list[bytes] = []
    drop = False
    for part in parts:
        if not isinstance(part, Message):
            return _error(400, "Malformed batch request.")
        content_id = part.get("Content-ID")
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            payload = b""
        try:
            verb, target, inner_headers, body = _parse_inner(payload)
            if urlsplit(target).scheme:
                raise ValueError("absolute URL in a batch part")
            headers = CIMultiDict(outer)
            for name in set(inner_headers.keys()):
                headers.popall(name, None)
                for value in inner_headers.getall(name):
                    headers.add(name, value)
            split = urlsplit(target)
            query: MultiDict[str] = MultiDict(request.query)
            for key, value in parse_qsl(split.query, keep_blank_values=True):
                query.add(key, value)
            answer = await engine.call(
                ApiRequest(verb, split.path, query, headers, body, base), in_batch=True
            )
        except (ValueError, UnicodeDecodeError):
            answer = _error_response(errors.bad_request("Malformed batch part."))
        drop = drop or answer.drop_connection
        header = "Content-Type: application/http\r\n"
        if content_id:
            inner_id = content_id.strip()
            inner_id = inner_id[1:-1] if inner_id.startswith("<") else inner_id
            header += f"Content-ID: <response-{inner_id}>\r\n"
        chunks.append(f"--{boundary}\r\n{header}\r\n".encode() + _serialize(answer) + b"\r\n")
    body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
    if drop and request.transport is not None:
        # "lose response" fault in drop mode: every part was applied, the answer never arrives.
        request.transport.abort()
        return web.Response(status=503)  # never reaches the client: the transport is gone
    return web.Response(
        status=200, body=body, headers={"Content-Type": f"multipart/mixed; boundary={boundary}"}
    )
