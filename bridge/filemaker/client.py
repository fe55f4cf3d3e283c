"""The one HTTP wrapper for FileMaker Server's Data API: a session token kept and reused, each
answer judged by Claris' ``messages[].code`` (never the HTTP status), 952 answered by one
fresh login, and the three reads the connector needs (layout metadata, ``_find``, a range).

Why not python-fmrest (the field's client, which we read closely): it is synchronous
(``requests``) while the bridge's poller runs inside the aiohttp server's event loop, so it
would need a worker thread per call; its ``Server`` keeps mutable per-call state
(``_headers``, ``last_error``, ``_token``) that makes one instance unsafe to share between
threads; it reads every answer whole with no size bound; and a 401 "no records match" surfaces
as an exception to catch. The connector needs four calls (login, logout, layout, find/range),
so one small async wrapper with the same rules (Basic auth with a ``{}`` body at login,
``Authorization: Bearer`` after, re-login on 952 once) is less code than the glue around it.

Tokens: kept in memory only, never logged (the logout path is logged as ``sessions/…``).
FileMaker Server drops a session 15 minutes after its last use; a session idle longer than
``IDLE_RELOGIN_S`` is replaced by a fresh login before the next call, so an idle poll after a
quiet night still costs one login and one find rather than a 952 round trip on top.
"""

from __future__ import annotations

import base64
import json
import logging
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from .errors import (
    FieldMissing,
    FileMakerError,
    FileNotOpen,
    LayoutMissing,
    LoginFailed,
    Refused,
    TooLarge,
    Unreachable,
)

logger = logging.getLogger(__name__)

ROOT = "/fmi/data/vLatest"
TOKEN_HEADER = "X-FM-Data-Access-Token"
IDLE_RELOGIN_S = 14 * 60
"""FileMaker Server ends a session 15 minutes after its last use; log in again a minute early."""

NO_RECORDS = "401"
INVALID_TOKEN = "952"
_CODES: dict[str, type[FileMakerError]] = {
    "212": LoginFailed,
    "105": LayoutMissing,
    "102": FieldMissing,
    "802": FileNotOpen,
}


@dataclass(frozen=True, slots=True)
class LayoutInfo:
    """A layout's metadata: its fields and, per portal, the ``Table::Field`` names it shows."""

    fields: tuple[str, ...]
    portals: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of records: ``records`` as FileMaker sent them (``fieldData``, ``portalData``,
    ``recordId``, ``modId``), ``found`` the size of the whole found set."""

    records: tuple[Mapping[str, Any], ...]
    found: int


EMPTY = Page((), 0)


def _message(answer: Any) -> tuple[str, str]:
    """(code, message) of Claris' envelope; ("", "") when there is none."""
    if not isinstance(answer, dict):
        return "", ""
    messages = answer.get("messages")
    if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict):
        return "", ""
    first = messages[0]
    return str(first.get("code", "")), str(first.get("message", ""))


class DataAPI:
    """A Data API session on one database. Not for concurrent use: the poller of one source
    owns one instance and awaits each call before the next."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        url: str,
        database: str,
        username: str,
        password: str,
        *,
        max_answer_bytes: int = 64 * 1024 * 1024,
        timeout_s: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._http = http
        self._base = f"{url.rstrip('/')}{ROOT}/databases/{quote(database, safe='')}"
        basic = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self._basic = f"Basic {basic}"
        self._max = max_answer_bytes
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._token: str | None = None
        self._used = 0.0
        self.requests = 0
        """HTTP requests sent so far (logins included): what an idle poll costs."""

    async def _send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        login: bool = False,
    ) -> tuple[Any, Mapping[str, str]]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if login:
            headers["Authorization"] = self._basic
        elif self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        shown = path if "/sessions/" not in path else path.split("/sessions/")[0] + "/sessions/…"
        self.requests += 1
        try:
            async with self._http.request(
                method,
                self._base + path,
                data=None if body is None else json.dumps(body),
                params=params,
                headers=headers,
                timeout=self._timeout,
                ssl=self._ssl,
            ) as response:
                length = response.content_length
                if length is not None and length > self._max:
                    raise TooLarge(f"FileMaker sent {length} bytes (limit {self._max})")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.content.iter_chunked(1 << 16):
                    size += len(chunk)
                    if size > self._max:
                        raise TooLarge(f"FileMaker sent more than {self._max} bytes")
                    chunks.append(chunk)
                raw = b"".join(chunks)
                logger.debug("%s %s: HTTP %d", method, shown, response.status)
                status, answer_headers = response.status, response.headers
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise Unreachable(f"FileMaker Server does not answer ({type(exc).__name__})") from exc
        try:
            answer = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise Unreachable(
                f"FileMaker Server answered HTTP {status} without a Data API message"
            ) from exc
        return answer, answer_headers

    async def login(self) -> None:
        """Open a session (Basic auth, ``{}`` body: an empty body is refused by the server)."""
        answer, headers = await self._send("POST", "/sessions", body={}, login=True)
        code, message = _message(answer)
        if code != "0":
            self._raise(code, message, "log in")
        token = headers.get(TOKEN_HEADER) or (answer.get("response") or {}).get("token")
        if not isinstance(token, str) or not token:
            raise Unreachable("FileMaker Server accepted the login but sent no session token")
        self._token = token
        self._used = time.monotonic()

    async def logout(self) -> None:
        """End the session, so it does not hold one of the server's connections for 15 min."""
        token, self._token = self._token, None
        if not token:
            return
        try:
            await self._send("DELETE", f"/sessions/{quote(token, safe='')}")
        except FileMakerError as exc:
            logger.debug("logout failed: %s", exc)

    def _raise(self, code: str, message: str, what: str) -> None:
        if not code:
            raise Unreachable(f"FileMaker Server gave no Data API message to {what}")
        cls = _CODES.get(code, Refused)
        raise cls(f"FileMaker refused to {what}: {message} (code {code})", code=code)

    async def call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> tuple[str, Any]:
        """One authenticated call: logs in when there is no live token, and once more on 952.

        Returns (code, response) where code is "0" or "401"; raises for every other code."""
        if self._token is None or time.monotonic() - self._used > IDLE_RELOGIN_S:
            await self.login()
        for attempt in (1, 2):
            answer, _ = await self._send(method, path, body=body, params=params)
            code, message = _message(answer)
            if code == INVALID_TOKEN and attempt == 1:
                logger.info("FileMaker session expired (952): logging in again")
                self._token = None
                await self.login()
                continue
            self._used = time.monotonic()
            if code in ("0", NO_RECORDS):
                response = answer.get("response") if isinstance(answer, dict) else None
                return code, response if isinstance(response, dict) else {}
            self._raise(code, message, what)
        raise AssertionError("unreachable")  # pragma: no cover

    async def layout(self, layout: str) -> LayoutInfo:
        """The fields and portals of ``layout`` (``GET .../layouts/{layout}``)."""
        _, response = await self.call(
            "GET", f"/layouts/{quote(layout, safe='')}", f"read layout {layout!r}"
        )
        fields = tuple(
            str(f["name"])
            for f in response.get("fieldMetaData") or []
            if isinstance(f, dict) and "name" in f
        )
        portals: dict[str, tuple[str, ...]] = {}
        raw_portals = response.get("portalMetaData") or {}
        if isinstance(raw_portals, dict):
            for name, meta in raw_portals.items():
                if isinstance(meta, list):
                    portals[str(name)] = tuple(
                        str(f["name"]) for f in meta if isinstance(f, dict) and "name" in f
                    )
        return LayoutInfo(fields, portals)

    async def find(
        self,
        layout: str,
        query: Sequence[Mapping[str, str]],
        *,
        sort: Sequence[Mapping[str, str]] = (),
        offset: int = 1,
        limit: int = 100,
        portals: Sequence[str] | None = None,
    ) -> Page:
        """``POST .../_find``; code 401 (no record matches) is an empty page."""
        body: dict[str, Any] = {
            "query": list(query),
            "offset": str(offset),
            "limit": str(limit),
        }
        if sort:
            body["sort"] = list(sort)
        if portals is not None:
            body["portal"] = list(portals)
        code, response = await self.call(
            "POST",
            f"/layouts/{quote(layout, safe='')}/_find",
            f"search layout {layout!r}",
            body=body,
        )
        return EMPTY if code == NO_RECORDS else _page(response)

    async def records(
        self,
        layout: str,
        *,
        offset: int = 1,
        limit: int = 100,
        portals: Sequence[str] | None = None,
    ) -> Page:
        """``GET .../layouts/{layout}/records``: a range of the layout's records (1-based)."""
        params = {"_offset": str(offset), "_limit": str(limit)}
        if portals is not None:
            params["portal"] = json.dumps(list(portals))
        code, response = await self.call(
            "GET",
            f"/layouts/{quote(layout, safe='')}/records",
            f"read layout {layout!r}",
            params=params,
        )
        return EMPTY if code == NO_RECORDS else _page(response)


def _page(response: Mapping[str, Any]) -> Page:
    data = response.get("data") or []
    info = response.get("dataInfo") or {}
    records = tuple(r for r in data if isinstance(r, dict)) if isinstance(data, list) else ()
    try:
        found = int(info.get("foundCount", len(records))) if isinstance(info, dict) else 0
    except (TypeError, ValueError):
        found = len(records)
    return Page(records, found)
