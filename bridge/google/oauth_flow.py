"""Google sign-in for the bridge: the OAuth 2.0 authorization-code flow with PKCE, shared by the
admin page (web redirect) and ``ipoint-bridge auth google`` (loopback or pasted address).

Owns: the authorization URL (state, PKCE S256, ``access_type=offline``, ``prompt=consent`` so
Google always hands out a refresh token), the code exchange at the configured token URI, the
authorized-user JSON written 0600 (through ``credentials``, the mirror's reader and writer of that
file) and revocation. Whether a stored sign-in still works, in plain words, is
``bridge.web.admin.authstate``. Every endpoint comes from ``[google]`` so tests and ``demo`` run
against the emulator.

Tokens never leave this module except into the credentials file and the caller's ``Grant``
(whose ``repr`` hides them): errors and log lines carry Google's error code and plain words,
never a token or an authorization code.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp

from ..config import GoogleSettings, Settings
from ..errors import BridgeError
from .credentials import SCOPES as CALENDAR_SCOPES
from .credentials import (
    AuthorizedUser,
    credentials_path,
    load_authorized_user,
    save_authorized_user,
)
from .errors import NotAuthorized

logger = logging.getLogger(__name__)

SCOPES: tuple[str, ...] = (
    # openid + email only to show the admin which account signed in.
    "openid",
    "https://www.googleapis.com/auth/userinfo.email",
    *CALENDAR_SCOPES,
)
TESTING_REFRESH_DAYS = 7
"""Google: refresh tokens of apps whose consent screen is in "Testing" die after 7 days."""
EXPIRY_DOC_URL = "https://developers.google.com/identity/protocols/oauth2#expiration"
PUBLISHING_DOC_URL = "https://support.google.com/cloud/answer/10311615"
PERMISSIONS_URL = "https://myaccount.google.com/permissions"
# Short: the admin page waits for these answers.
_TIMEOUT = aiohttp.ClientTimeout(total=15, sock_connect=5)


class OAuthError(BridgeError):
    """Google refused a sign-in step; ``code`` is Google's error code, ``message`` plain words."""

    def __init__(self, message: str, code: str = "") -> None:
        self.code = code
        self.message = message
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class AuthRequest:
    """One started sign-in: what the browser opens and what must be kept to finish it."""

    url: str
    state: str
    verifier: str
    redirect_uri: str


@dataclass(frozen=True, slots=True)
class Redirect:
    """What Google put on the redirect address: a code and state, or an error."""

    state: str
    code: str
    error: str


@dataclass(frozen=True, slots=True)
class Grant:
    """The result of a code exchange. ``repr`` hides the tokens."""

    refresh_token: str
    access_token: str
    scopes: tuple[str, ...]
    email: str

    def __repr__(self) -> str:
        return f"Grant(email={self.email!r}, scopes={self.scopes!r})"


def pkce_pair() -> tuple[str, str]:
    """A PKCE verifier (RFC 7636: 43-128 unreserved characters) and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


def start(google: GoogleSettings, redirect_uri: str, *, login_hint: str = "") -> AuthRequest:
    """Build the consent-page address for a new sign-in."""
    state = secrets.token_urlsafe(32)
    verifier, challenge = pkce_pair()
    params = {
        "client_id": google.client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(SCOPES),
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        # offline + consent: Google only issues a refresh token on a consent it just showed.
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "true",
    }
    if login_hint:
        params["login_hint"] = login_hint
    return AuthRequest(f"{google.auth_uri}?{urlencode(params)}", state, verifier, redirect_uri)


def parse_redirect(address: str) -> Redirect:
    """Read the code and state from the address the browser ended on (pasted by a person).

    Accepts the full address or only its query part; raises ``OAuthError`` when neither a code
    nor an error is in it.
    """
    text = address.strip()
    query = urlsplit(text).query if "://" in text else text.lstrip("?")
    params = parse_qs(query, keep_blank_values=True)

    def one(name: str) -> str:
        values = params.get(name) or [""]
        return values[0].strip()

    found = Redirect(state=one("state"), code=one("code"), error=one("error"))
    if not found.code and not found.error:
        raise OAuthError(
            "That address has no sign-in code in it. Copy the whole address from the browser's "
            "address bar after you pressed Allow (it contains 'code=')."
        )
    return found


def describe_redirect_error(error: str) -> str:
    """Plain words for the ``error`` Google puts on the redirect."""
    if error == "access_denied":
        return "Sign-in was cancelled on Google's page (Allow was not pressed)."
    return f"Google did not complete the sign-in ({error})."


def _describe_token_error(error: str, description: str, redirect_uri: str) -> str:
    if error == "invalid_grant":
        return (
            "Google refused the sign-in code: it was already used or has expired. "
            "Start the sign-in again."
        )
    if error == "redirect_uri_mismatch":
        return (
            f"Google refused the return address {redirect_uri}: add it to the OAuth client's "
            "authorized redirect URIs in the Google Cloud console, or set [bridge] base_url."
        )
    if error in ("invalid_client", "unauthorized_client"):
        return (
            "Google does not accept the OAuth client: check [google] client_id and client_secret."
        )
    words = f": {description[:200]}" if description else ""
    return f"Google refused the sign-in ({error or 'unknown error'}){words}"


async def post_form(
    session: aiohttp.ClientSession, url: str, form: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    try:
        async with session.post(url, data=form, timeout=_TIMEOUT) as response:
            try:
                body = await response.json(content_type=None)
            except (json.JSONDecodeError, UnicodeDecodeError, aiohttp.ContentTypeError):
                body = {}
            return response.status, body if isinstance(body, dict) else {}
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise OAuthError(
            f"Could not reach Google at {url}: {type(exc).__name__}", "unreachable"
        ) from exc


async def exchange(
    session: aiohttp.ClientSession, google: GoogleSettings, request: AuthRequest, code: str
) -> Grant:
    """Trade the one-time code (with the PKCE verifier) for tokens at the configured token URI."""
    status, body = await post_form(
        session,
        google.token_uri,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": request.redirect_uri,
            "client_id": google.client_id,
            "client_secret": google.client_secret,
            "code_verifier": request.verifier,
        },
    )
    if status != 200 or "access_token" not in body:
        error = str(body.get("error", ""))
        logger.warning("Google code exchange refused: HTTP %s %s", status, error or "-")
        raise OAuthError(
            _describe_token_error(
                error, str(body.get("error_description", "")), request.redirect_uri
            ),
            error,
        )
    refresh = str(body.get("refresh_token") or "")
    if not refresh:
        raise OAuthError(
            "Google did not hand out a refresh token, so the bridge could not stay signed in. "
            f"Remove the bridge's access at {PERMISSIONS_URL} and sign in again.",
            "no_refresh_token",
        )
    access = str(body["access_token"])
    scopes = tuple(str(body.get("scope", "")).split())
    email = _email_from_id_token(str(body.get("id_token") or ""))
    if not email:
        email = await fetch_email(session, google, access)
    return Grant(refresh, access, scopes, email)


def _email_from_id_token(id_token: str) -> str:
    """The ``email`` claim of an ID token received directly from the token endpoint over TLS.

    Google's OpenID Connect documentation allows skipping the signature check for an ID token
    that came straight from its token endpoint; it is only used to show who signed in.
    """
    parts = id_token.split(".")
    if len(parts) != 3:
        return ""
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, json.JSONDecodeError):
        return ""
    return str(payload.get("email", "")) if isinstance(payload, dict) else ""


async def fetch_email(session: aiohttp.ClientSession, google: GoogleSettings, access: str) -> str:
    """The signed-in account's address from the userinfo endpoint ('' when unavailable)."""
    url = google.api_endpoint + "/oauth2/v3/userinfo"
    try:
        async with session.get(
            url, headers={"Authorization": f"Bearer {access}"}, timeout=_TIMEOUT
        ) as response:
            if response.status != 200:
                logger.info("userinfo answered HTTP %s", response.status)
                return ""
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as exc:
        logger.info("userinfo failed: %s", type(exc).__name__)
        return ""
    return str(body.get("email", "")) if isinstance(body, dict) else ""


def save(settings: Settings, grant: Grant) -> Path:
    """Write the authorized-user JSON (google-auth's format) readable by its owner only."""
    google = settings.google
    user = AuthorizedUser(
        client_id=google.client_id,
        client_secret=google.client_secret,
        refresh_token=grant.refresh_token,
        token_uri=google.token_uri,
        scopes=grant.scopes or SCOPES,
        account=grant.email,
    )
    path = credentials_path(settings)
    save_authorized_user(path, user)
    logger.info("Google authorization saved for %s in %s", grant.email or "(unknown)", path)
    return path


def load(settings: Settings) -> AuthorizedUser | None:
    """The stored sign-in, None when there is none; ``OAuthError`` when it is unusable."""
    path = credentials_path(settings)
    if not path.exists():
        return None
    try:
        return load_authorized_user(path)
    except NotAuthorized as exc:
        raise OAuthError(str(exc), "unreadable") from exc


async def revoke(session: aiohttp.ClientSession, settings: Settings) -> bool:
    """Revoke the stored grant at Google and delete the file; True when Google confirmed."""
    try:
        user = load(settings)
    except OAuthError:
        user = None
    confirmed = False
    try:
        if user is not None:
            status, body = await post_form(
                session, settings.google.revoke_uri, {"token": user.refresh_token}
            )
            confirmed = status == 200
            if not confirmed:
                logger.warning(
                    "Google revocation answered HTTP %s %s", status, body.get("error", "-")
                )
    finally:
        # The file goes even when Google cannot be reached: the admin asked to sign out.
        credentials_path(settings).unlink(missing_ok=True)
    logger.info("Google authorization removed")
    return confirmed
