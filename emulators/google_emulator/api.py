"""The API call model shared by direct HTTP requests and batch parts.

An :class:`ApiRequest` is transport-free (method, encoded path, query, headers, body), so the batch
endpoint can run each inner request through exactly the same pipeline as a direct one.
Handlers receive a :class:`Ctx` and return a :class:`Result` or raise ``ApiError``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, MultiDict

from google_emulator import cursor, errors
from google_emulator.model import Account

if TYPE_CHECKING:
    from google_emulator.engine import Engine
    from google_emulator.oauth_store import AccessToken

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ApiRequest:
    method: str
    raw_path: str
    query: MultiDict[str]
    headers: CIMultiDict[str]
    body: bytes
    base_url: str


@dataclass(frozen=True, slots=True)
class Result:
    status: int = 200
    body: JSON | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ApiResponse:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    #: Set by a "lose response" fault in drop mode: the write happened, the answer never arrives.
    drop_connection: bool = False


@dataclass(frozen=True, slots=True)
class Route:
    """One API method: HTTP verb, path template (``{name}`` segments), id, scopes, quota cost."""

    verb: str
    template: tuple[str, ...]
    method_id: str
    handler: Callable[[Ctx], Result]
    scopes: frozenset[str]
    write: bool
    cost: int = 1

    def match(self, verb: str, segments: list[str]) -> dict[str, str] | None:
        if verb != self.verb or len(segments) != len(self.template):
            return None
        params: dict[str, str] = {}
        for want, got in zip(self.template, segments, strict=True):
            if want.startswith("{"):
                if not got:
                    return None
                params[want[1:-1]] = got
            elif want != got:
                return None
        return params


@dataclass(slots=True)
class Ctx:
    engine: Engine
    req: ApiRequest
    route: Route
    params: dict[str, str]
    user: Account
    token: AccessToken
    _body: JSON | None = field(default=None)

    @property
    def email(self) -> str:
        return self.user.email

    def body(self) -> JSON:
        """The JSON request body; 400 ``parseError`` when it is not an object."""
        if self._body is None:
            try:
                value = json.loads(self.req.body or b"{}")
            except ValueError as exc:
                raise errors.ApiError(400, "parseError", "Parse Error") from exc
            if not isinstance(value, dict):
                raise errors.ApiError(400, "parseError", "Parse Error")
            self._body = value
        return self._body

    def q(self, name: str) -> str | None:
        return self.req.query.get(name)

    def q_all(self, name: str) -> list[str]:
        return list(self.req.query.getall(name, []))

    def q_bool(self, name: str, default: bool = False) -> bool:
        value = self.q(name)
        if value is None:
            return default
        if value.lower() in ("true", "1"):
            return True
        if value.lower() in ("false", "0"):
            return False
        raise errors.invalid(
            f"Invalid value '{value}'. Values must match the boolean type.", location=name
        )

    def q_int(self, name: str, default: int, low: int, high: int | None = None) -> int:
        """An integer parameter; values above ``high`` are capped (Google caps page sizes)."""
        value = self.q(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError as exc:
            raise errors.invalid(f"Invalid value '{value}'.", location=name) from exc
        if number < low:
            raise errors.invalid(f"Invalid value '{value}'.", location=name)
        return min(number, high) if high is not None else number


def page_token(ctx: Ctx) -> tuple[str, dict[str, Any] | None]:
    """The list query's fingerprint and the verified ``pageToken`` payload (None on page one).

    A page token is bound to the query it was issued for: one that is forged, damaged or
    replayed with other parameters answers 400 "Invalid page token value", as Google does.
    """
    fingerprint = cursor.query_fingerprint(
        [(k, v) for k, v in ctx.req.query.items() if k not in ("pageToken", "fields")]
    )
    page = ctx.q("pageToken")
    if not page:
        return fingerprint, None
    payload = cursor.decode(ctx.engine.store.secret, page)
    if payload is None or payload.get("h") != fingerprint:
        raise errors.invalid("Invalid page token value.", location="pageToken")
    return fingerprint, payload


def sync_position(ctx: Ctx, scope: dict[str, str], oldest: int = 0) -> int:
    """The change position the request's ``syncToken`` resumes from (0 without one).

    A token is bound to its listing (``scope``: kind and calendar or user); one that is forged,
    from another listing, or older than ``oldest`` (purged history) answers 410
    fullSyncRequired, and the client starts over, as Google's do.
    """
    token = ctx.q("syncToken")
    if not token:
        return 0
    store = ctx.engine.store
    payload = cursor.decode(store.secret, token)
    if (
        payload is None
        or any(payload.get(key) != value for key, value in scope.items())
        or not oldest <= int(payload["s"]) <= store.seq
    ):
        raise errors.full_sync_required()
    return int(payload["s"])


def sync_token(ctx: Ctx, scope: dict[str, str], snapshot: int) -> str:
    """The ``nextSyncToken`` of a listing's last page (read back by ``sync_position``)."""
    return cursor.encode(ctx.engine.store.secret, {**scope, "s": snapshot})


def calendar_of(ctx: Ctx, level: str, param: str = "calendarId") -> Any:
    """The calendar named by a path parameter, checked for the caller's role and token scope.

    With only ``calendar.app.created`` among the method's scopes, Google lets the app reach just
    the calendars it created; others look absent (404).
    """
    store = ctx.engine.store
    cal = store.resolve(ctx.email, ctx.params[param])
    store.require(ctx.email, cal, level)
    granted = set(ctx.token.scopes) & ctx.route.scopes
    if granted == {APP_CREATED} and cal.created_by_client != ctx.token.client_id:
        raise errors.not_found()
    return cal


SCOPE_PREFIX = "https://www.googleapis.com/auth/"
APP_CREATED = SCOPE_PREFIX + "calendar.app.created"


def scopes(*names: str) -> frozenset[str]:
    """Full scope URLs from short names (``calendar.events`` ...)."""
    return frozenset(SCOPE_PREFIX + name for name in names)


def route(
    verb: str,
    path: str,
    method_id: str,
    handler: Callable[[Ctx], Result],
    scope_names: tuple[str, ...],
    *,
    write: bool,
    cost: int = 1,
) -> Route:
    """A route under ``/calendar/v3/``; ``scope_names`` are those of the discovery document."""
    template = ("calendar", "v3", *path.split("/"))
    return Route(verb, template, method_id, handler, scopes(*scope_names), write, cost)
