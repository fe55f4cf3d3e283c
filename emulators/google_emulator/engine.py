"""The API pipeline every Calendar call goes through, direct or inside a batch.

Order of checks, as Google applies them: route, credentials (401), injected latency, token scopes
(403 ``insufficientPermissions``), per-minute quota (403/429 ``rateLimitExceeded``), injected
errors, the account's ``quotaExceeded`` state for writes, the handler, then a possible "lost
response" fault and the ``fields`` partial-response selector.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import unquote

from google_emulator import errors
from google_emulator.api import ApiRequest, ApiResponse, Ctx, Result, Route
from google_emulator.clock import Clock
from google_emulator.counters import Counters
from google_emulator.faults import Faults
from google_emulator.fields import FieldsError, apply_fields
from google_emulator.oauth_store import AccessToken, OAuthStore
from google_emulator.quota import QuotaBook
from google_emulator.settings import EmulatorSettings
from google_emulator.store import Store

logger = logging.getLogger(__name__)


def _all_routes() -> list[Route]:
    from google_emulator import acl, calendar_list, calendars, events

    return [*calendars.ROUTES, *calendar_list.ROUTES, *events.ROUTES, *acl.ROUTES]


class Engine:
    """The emulator's state and the call pipeline; one per application."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.clock = Clock()
        self.routes = _all_routes()
        self.reset()

    def reset(self) -> None:
        """Back to the state the settings describe (control API ``/_emulator/reset``)."""
        self.store = Store(self.clock)
        self.oauth = OAuthStore(self.settings, self.clock)
        self.quota = QuotaBook(
            self.settings.user_rate_limit_per_min, self.settings.project_rate_limit_per_min
        )
        self.faults = Faults(self.settings.fault_seed)
        self.counters = Counters(self.settings.request_log_size)
        for spec in self.settings.accounts:
            self.store.add_account(spec.email, spec.time_zone, spec.display_name)

    def version(self) -> tuple[int, int, int]:
        """Changes when state worth saving changes."""
        return (self.store.seq, len(self.oauth.refresh_tokens), len(self.oauth.access_tokens))

    def find(self, verb: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
        segments = [unquote(s) for s in raw_path.lstrip("/").split("/")]
        for candidate in self.routes:
            params = candidate.match(verb, segments)
            if params is not None:
                return candidate, params
        return None

    def bearer(self, req: ApiRequest) -> AccessToken | None:
        header = req.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else None
        token = token or req.query.get("access_token") or req.query.get("oauth_token")
        return self.oauth.access_valid(token) if token else None

    async def call(self, req: ApiRequest, *, in_batch: bool = False) -> ApiResponse:
        found = self.find(req.method, req.raw_path)
        method_id = found[0].method_id if found else "unknown"
        token = self.bearer(req)
        email = token.email if token else None
        try:
            if found is None:
                raise errors.not_found()
            target, params = found
            if token is None:
                raise errors.auth_error()
            delay = self.faults.latency_ms(email, method_id, target.write)
            if delay:
                await asyncio.sleep(delay / 1000.0)
            result = self._authorized(req, target, params, token)
            lose = self.faults.lose(email, method_id, target.write) if result.status < 300 else None
            if lose == "503":
                raise errors.backend_error(503)
            response = self._render(req, result, drop=lose == "drop")
        except errors.ApiError as exc:
            response = _error_response(exc)
        except Exception:  # a bug here must look like Google's 500, not break a whole batch
            logger.exception("emulator failure in %s", method_id)
            response = _error_response(errors.backend_error(500))
        self.counters.record(
            email,
            method_id,
            response.status,
            self.clock.now(),
            in_batch=in_batch,
            target=found[1].get("eventId") if found else None,
        )
        if response.status >= 400:
            logger.debug("%s %s -> %s", req.method, method_id, response.status)
        return response

    def _authorized(
        self, req: ApiRequest, target: Route, params: dict[str, str], token: AccessToken
    ) -> Result:
        if not set(token.scopes) & target.scopes:
            raise errors.insufficient_scopes()
        account = self.store.account(token.email)
        if account is None:
            raise errors.auth_error()
        # quotaUser / X-Goog-Quota-User attribute per-user quota, as the quota guide describes.
        quota_key = (
            req.query.get("quotaUser") or req.headers.get("X-Goog-Quota-User") or account.email
        )
        refusal = self.quota.check(quota_key, self.clock.now(), target.cost)
        if refusal is not None:
            raise errors.rate_limited(self.settings.rate_limit_status)
        injected = self.faults.error(account.email, target.method_id, target.write)
        if injected is not None:
            raise injected
        if target.write and account.quota_exceeded:
            raise errors.quota_exceeded()
        ctx = Ctx(self, req, target, params, account, token)
        return target.handler(ctx)

    def _render(self, req: ApiRequest, result: Result, *, drop: bool) -> ApiResponse:
        headers = list(result.headers)
        if result.body is None:
            return ApiResponse(result.status, b"", tuple(headers), drop)
        body: Any = result.body
        selector = req.query.get("fields")
        if selector:
            try:
                body = apply_fields(body, selector)
            except FieldsError as exc:
                raise errors.ApiError(
                    400, "invalidParameter", f"Invalid field selection {exc}", location="fields"
                ) from exc
        if isinstance(result.body, dict) and "etag" in result.body:
            headers.append(("ETag", str(result.body["etag"])))
        headers.append(("Content-Type", "application/json; charset=UTF-8"))
        return ApiResponse(result.status, json.dumps(body).encode(), tuple(headers), drop)


def _error_response(exc: errors.ApiError) -> ApiResponse:
    headers = [("Content-Type", "application/json; charset=UTF-8"), *exc.headers.items()]
    return ApiResponse(exc.code, json.dumps(exc.body()).encode(), tuple(headers))
