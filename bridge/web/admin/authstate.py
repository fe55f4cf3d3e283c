"""Whether the bridge may call Google, and if not why, in words an admin can act on.

Shared by the admin page (step 2) and ``/readyz``. The answer comes from one token refresh at the
configured token URI and is cached (``AuthCache``) so pages and probes do not hammer Google.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

import aiohttp
from aiohttp import web

from ...config import Settings
from ...google.credentials import credentials_path
from ...google.oauth_flow import (
    PERMISSIONS_URL,
    TESTING_REFRESH_DAYS,
    OAuthError,
    fetch_email,
    load,
    post_form,
)
from ..keys import SETTINGS

logger = logging.getLogger(__name__)


AuthKind = Literal[
    "authorized",
    "never",
    "revoked",
    "expired",
    "unreadable",
    "unconfigured",
    "service_account",
    "unreachable",
]


@dataclass(frozen=True, slots=True)
class AuthState:
    """Whether the bridge may call Google, and if not why, in words an admin can act on."""

    kind: AuthKind
    email: str = ""
    detail: str = ""
    checked_at: float = 0.0

    @property
    def ok(self) -> bool:
        return self.kind in ("authorized", "service_account")

    @property
    def headline(self) -> str:
        return HEADLINES[self.kind]


HEADLINES: dict[str, str] = {
    "authorized": "You are authorized",
    "service_account": "You are authorized with a service account",
    "never": "Not signed in yet",
    "revoked": "Access was revoked",
    "expired": "The Google sign-in expired",
    "unreadable": "The saved sign-in cannot be used",
    "unconfigured": "Google sign-in is not set up",
    "unreachable": "Google could not be reached",
}


def _service_account_state(settings: Settings) -> AuthState:
    google = settings.google
    path = settings.data_path(google.service_account)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return AuthState(
            "unreadable",
            detail=f"The service-account key {path} cannot be read ({type(exc).__name__}).",
            checked_at=time.time(),
        )
    if not isinstance(info, dict) or info.get("type") != "service_account":
        return AuthState(
            "unreadable", detail=f"{path} is not a service-account key.", checked_at=time.time()
        )
    who = google.delegated_user or str(info.get("client_email", ""))
    detail = (
        f"Service account {info.get('client_email', '?')} acting as {who} (domain-wide delegation)."
        if google.delegated_user
        else f"Service account {who}, without delegation: it only sees its own calendars."
    )
    return AuthState("service_account", email=who, detail=detail, checked_at=time.time())


def _age_days(settings: Settings) -> float:
    """Days since the sign-in: the file is only written by a sign-in."""
    try:
        written = credentials_path(settings).stat().st_mtime
    except OSError:
        return 0.0
    return max(0.0, (time.time() - written) / 86400)


async def check(session: aiohttp.ClientSession, settings: Settings) -> AuthState:
    """Whether the stored authorization still works, by asking the token URI for an access token.

    One refresh per call: callers cache the answer. ``invalid_grant`` means the refresh token is
    dead; Google does not say why, so the age of the sign-in tells "expired" (a consent screen
    left in "Testing" kills refresh tokens after 7 days) from "revoked".
    """
    google = settings.google
    now = time.time()
    if google.service_account:
        return _service_account_state(settings)
    if not google.client_id or not google.client_secret:
        return AuthState(
            "unconfigured",
            detail="Set [google] client_id and client_secret (an "
            "OAuth client of the shop's Google Cloud project) first.",
            checked_at=now,
        )
    try:
        user = load(settings)
    except OAuthError as exc:
        return AuthState("unreadable", detail=exc.message, checked_at=now)
    if user is None:
        return AuthState("never", detail="Nobody has signed in with Google yet.", checked_at=now)
    email = user.account
    try:
        status, body = await post_form(
            session,
            google.token_uri,
            {
                "grant_type": "refresh_token",
                "refresh_token": user.refresh_token,
                "client_id": user.client_id or google.client_id,
                "client_secret": user.client_secret or google.client_secret,
            },
        )
    except OAuthError as exc:
        return AuthState("unreachable", email, exc.message, now)
    if status == 200 and body.get("access_token"):
        if not email:
            email = await fetch_email(session, google, str(body["access_token"]))
        return AuthState("authorized", email, checked_at=now)
    error = str(body.get("error", ""))
    logger.warning("Google authorization check: HTTP %s %s", status, error or "-")
    if error == "invalid_grant":
        days = _age_days(settings)
        if days >= TESTING_REFRESH_DAYS - 0.05:
            return AuthState(
                "expired",
                email,
                (
                    f"The sign-in is {days:.0f} days old and Google no longer accepts it. Google "
                    f"ends refresh tokens after {TESTING_REFRESH_DAYS} days when the app's consent "
                    'screen is left in the "Testing" publishing status: publish the app (set it '
                    'to "In production") in the Google Cloud console, then sign in again.'
                ),
                now,
            )
        return AuthState(
            "revoked",
            email,
            (
                "Google no longer accepts the sign-in: access was removed in the Google account "
                f"({PERMISSIONS_URL}), the password changed, or a newer sign-in replaced it. "
                "Sign in again."
            ),
            now,
        )
    if error in ("invalid_client", "unauthorized_client"):
        return AuthState(
            "unconfigured",
            email,
            "Google does not accept the OAuth client: check "
            "[google] client_id and client_secret, then sign in again.",
            now,
        )
    return AuthState(
        "unreachable", email, f"Google answered HTTP {status} ({error or 'no error code'}).", now
    )


class AuthCache:
    """The last ``check`` answer, refreshed when older than ``ttl`` seconds or on demand.

    One check at a time: concurrent page loads wait for the same refresh instead of each asking
    Google.
    """

    def __init__(self, settings: Settings, ttl: float = 300.0) -> None:
        self._settings = settings
        self._ttl = ttl
        self._state: AuthState | None = None
        self._lock = asyncio.Lock()

    @property
    def last(self) -> AuthState | None:
        return self._state

    def invalidate(self) -> None:
        self._state = None

    async def get(self, session: aiohttp.ClientSession, *, force: bool = False) -> AuthState:
        async with self._lock:
            state = self._state
            if force or state is None or time.time() - state.checked_at > self._ttl:
                state = await check(session, self._settings)
                self._state = state
            return state


class GoogleAccess:
    """The HTTP client for Google's OAuth endpoints and the cached authorization answer; one per
    app, shared by the admin page and ``/readyz``."""

    def __init__(self, settings: Settings) -> None:
        self.cache = AuthCache(settings)
        self._http: aiohttp.ClientSession | None = None

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None:
            raise RuntimeError("the app has not started")
        return self._http

    async def state(self, *, force: bool = False) -> AuthState:
        return await self.cache.get(self.http, force=force)

    async def ctx(self, app: web.Application) -> AsyncIterator[None]:
        self._http = aiohttp.ClientSession()
        yield
        await self._http.close()
        self._http = None


GOOGLE_ACCESS: web.AppKey[GoogleAccess] = web.AppKey("google_access", GoogleAccess)


def ensure_google_access(app: web.Application) -> GoogleAccess:
    """The app's ``GoogleAccess``, created (with its cleanup context) on first call."""
    access = app.get(GOOGLE_ACCESS)
    if access is None:
        access = GoogleAccess(app[SETTINGS])
        app[GOOGLE_ACCESS] = access
        app.cleanup_ctx.append(access.ctx)
    return access
