"""OAuth 2.0 endpoints at Google's paths: authorization (consent), token, revoke, token info.

Behaviour from Google's "OAuth 2.0 for Web Server Applications" and "... for iOS & Desktop Apps"
guides: errors at the authorization endpoint (unknown client, redirect URI mismatch, bad request)
are shown to the user and never redirected; Deny redirects with ``error=access_denied``; the
token endpoint takes ``application/x-www-form-urlencoded``, authenticates the client (form fields
or HTTP Basic), checks the one-time code, its redirect URI and the PKCE verifier (S256 or plain),
and answers errors as ``{"error", "error_description"}``: ``invalid_grant`` "Token has been
expired or revoked." for a dead refresh token, "Missing code verifier."/"Invalid code verifier."
for PKCE failures. No ``id_token`` is issued (nothing here can sign one as Google does).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aiohttp import web

from google_emulator.engine import Engine
from google_emulator.errors import OAuthError
from google_emulator.oauth_pages import consent_page, error_page
from google_emulator.oauth_store import AuthCode, Pending
from google_emulator.settings import OAuthClientSpec

logger = logging.getLogger(__name__)
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _html(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text, content_type="text/html")


def _redirect_allowed(client: OAuthClientSpec, uri: str) -> bool:
    if uri in client.redirect_uris:
        return True
    if client.kind != "installed":
        return False
    # Installed apps may use a loopback address with any port (Google's loopback IP flow).
    parts = urlsplit(uri)
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _sub(email: str) -> str:
    return str(int(hashlib.sha256(email.encode()).hexdigest()[:15], 16))


async def authorize(request: web.Request, engine: Engine) -> web.StreamResponse:
    q = request.query
    client = engine.oauth.client(q.get("client_id", ""))
    if client is None:
        return _html(401, error_page(401, "invalid_client", "The OAuth client was not found."))
    redirect_uri = q.get("redirect_uri", "")
    if not redirect_uri or not _redirect_allowed(client, redirect_uri):
        detail = f"redirect_uri={redirect_uri!r} is not registered for this client."
        return _html(400, error_page(400, "redirect_uri_mismatch", detail))
    problem = None
    if q.get("response_type") != "code":
        problem = "Missing or unsupported response_type (only 'code')."
    elif not q.get("scope", "").split():
        problem = "Missing required parameter: scope"
    elif q.get("code_challenge_method", "plain") not in ("plain", "S256"):
        problem = "Invalid code_challenge_method."
    if problem:
        return _html(400, error_page(400, "invalid_request", problem))
    pending = Pending(
        id=secrets.token_urlsafe(16),
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        scopes=q["scope"].split(),
        state=q.get("state"),
        code_challenge=q.get("code_challenge"),
        code_challenge_method=q.get("code_challenge_method", "plain"),
        offline=q.get("access_type") == "offline",
        prompt=q.get("prompt", ""),
        login_hint=q.get("login_hint"),
        expires_at=engine.clock.now() + 3600,
    )
    engine.oauth.pending[pending.id] = pending
    accounts = sorted(engine.store.accounts)
    hint = (pending.login_hint or "").lower()
    if "none" in pending.prompt.split():
        grant = engine.oauth.grant_for(hint, client.client_id) if hint else None
        if grant is None or not set(pending.scopes) <= set(grant.scopes):
            params = {"error": "consent_required"}
            if pending.state is not None:
                params["state"] = pending.state
            raise web.HTTPFound(_with_query(redirect_uri, params))
        raise web.HTTPFound(_approve(engine, pending, hint))
    preselected = hint if hint in accounts else (accounts[0] if accounts else "")
    page = consent_page(pending, accounts, preselected, engine.settings.auto_create_accounts)
    return _html(200, page)


def _approve(engine: Engine, pending: Pending, email: str) -> str:
    oauth = engine.oauth
    first = oauth.grant_for(email, pending.client_id) is None
    code = AuthCode(
        code="4/" + secrets.token_urlsafe(32),
        email=email,
        client_id=pending.client_id,
        redirect_uri=pending.redirect_uri,
        scopes=pending.scopes,
        code_challenge=pending.code_challenge,
        code_challenge_method=pending.code_challenge_method,
        # Google returns a refresh token for offline access on first consent or prompt=consent.
        issue_refresh=pending.offline and (first or "consent" in pending.prompt.split()),
        expires_at=engine.clock.now() + engine.settings.auth_code_lifetime_s,
    )
    oauth.codes[code.code] = code
    oauth.pending.pop(pending.id, None)
    params = {"code": code.code, "scope": " ".join(pending.scopes)}
    if pending.state is not None:
        params["state"] = pending.state
    return _with_query(pending.redirect_uri, params)


async def consent(request: web.Request, engine: Engine) -> web.StreamResponse:
    form = await request.post()
    pending = engine.oauth.pending.get(str(form.get("pending", "")))
    if pending is None:
        return _html(400, error_page(400, "invalid_request", "This sign-in request expired."))
    if form.get("action") != "allow":
        engine.oauth.pending.pop(pending.id, None)
        params = {"error": "access_denied"}
        if pending.state is not None:
            params["state"] = pending.state
        raise web.HTTPFound(_with_query(pending.redirect_uri, params))
    email = str(form.get("other_email") or form.get("email") or "").strip().lower()
    if engine.store.account(email) is None:
        if not (engine.settings.auto_create_accounts and _EMAIL.match(email)):
            return _html(400, error_page(400, "invalid_request", "Unknown account."))
        engine.store.add_account(email)
    raise web.HTTPFound(_approve(engine, pending, email))


def _json(status: int, body: dict[str, Any]) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(body),
        content_type="application/json",
        headers={"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate"},
    )


def _client_auth(request: web.Request, form: dict[str, str], engine: Engine) -> OAuthClientSpec:
    client_id, secret = form.get("client_id"), form.get("client_secret")
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError as exc:
            raise OAuthError(401, "invalid_client", "Unauthorized") from exc
    client = engine.oauth.client(client_id or "")
    if client is None:
        raise OAuthError(401, "invalid_client", "The OAuth client was not found.")
    if not secret:
        raise OAuthError(400, "invalid_request", "client_secret is missing.")
    if not secrets.compare_digest(secret, client.client_secret):
        raise OAuthError(401, "invalid_client", "Unauthorized")
    return client


def _pkce_ok(code: AuthCode, verifier: str | None) -> None:
    if code.code_challenge is None:
        return
    if not verifier:
        raise OAuthError(400, "invalid_grant", "Missing code verifier.")
    if code.code_challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    else:
        expected = verifier
    if not _VERIFIER.match(verifier) or not secrets.compare_digest(expected, code.code_challenge):
        raise OAuthError(400, "invalid_grant", "Invalid code verifier.")


def _exchange_code(engine: Engine, client: OAuthClientSpec, form: dict[str, str]) -> dict[str, Any]:
    if not form.get("code"):
        raise OAuthError(400, "invalid_request", "Missing required parameter: code")
    oauth = engine.oauth
    code = oauth.codes.get(form["code"])
    if (
        code is None
        or code.used
        or code.client_id != client.client_id
        or code.expires_at <= engine.clock.now()
    ):
        raise OAuthError(400, "invalid_grant", "Bad Request")
    if form.get("redirect_uri") != code.redirect_uri:
        raise OAuthError(400, "redirect_uri_mismatch", "Bad Request")
    _pkce_ok(code, form.get("code_verifier"))
    code.used = True
    grant = oauth.upsert_grant(code.email, client.client_id, code.scopes)
    access = oauth.issue_access(grant, code.scopes)
    body: dict[str, Any] = {
        "access_token": access.token,
        "expires_in": engine.settings.access_token_lifetime_s,
        "scope": " ".join(code.scopes),
        "token_type": "Bearer",
    }
    if code.issue_refresh:
        body["refresh_token"] = oauth.issue_refresh(grant).token
    return body


def _refresh(engine: Engine, client: OAuthClientSpec, form: dict[str, str]) -> dict[str, Any]:
    if not form.get("refresh_token"):
        raise OAuthError(400, "invalid_request", "Missing required parameter: refresh_token")
    oauth = engine.oauth
    rt = oauth.refresh_tokens.get(form["refresh_token"])
    grant = oauth.refresh_valid(rt) if rt is not None else None
    if grant is None:
        raise OAuthError(400, "invalid_grant", "Token has been expired or revoked.")
    if grant.client_id != client.client_id:
        raise OAuthError(401, "unauthorized_client", "Unauthorized")
    wanted = form.get("scope", "").split() or list(grant.scopes)
    if not set(wanted) <= set(grant.scopes):
        raise OAuthError(400, "invalid_scope", "Some requested scopes were invalid.")
    access = oauth.issue_access(grant, wanted)
    return {
        "access_token": access.token,
        "expires_in": engine.settings.access_token_lifetime_s,
        "scope": " ".join(sorted(wanted)),
        "token_type": "Bearer",
    }


async def token(request: web.Request, engine: Engine) -> web.StreamResponse:
    injected = engine.faults.error(None, "oauth2.token", True, explicit=True)
    if injected is not None:
        return _json(
            injected.code, {"error": "internal_failure", "error_description": "Backend Error"}
        )
    try:
        if not request.content_type.startswith("application/x-www-form-urlencoded"):
            raise OAuthError(400, "invalid_request", "Invalid content type.")
        form = {k: str(v) for k, v in (await request.post()).items()}
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError(400, "invalid_request", "Missing required parameter: grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            raise OAuthError(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        client = _client_auth(request, form, engine)
        if grant_type == "authorization_code":
            body = _exchange_code(engine, client, form)
        else:
            body = _refresh(engine, client, form)
    except OAuthError as exc:
        logger.debug("token endpoint refused: %s", exc.error)
        return _json(exc.status, exc.body())
    engine.oauth.prune()
    return _json(200, body)


async def revoke(request: web.Request, engine: Engine) -> web.StreamResponse:
    form = await request.post() if request.can_read_body else {}
    value = str(form.get("token") or request.query.get("token") or "")
    oauth = engine.oauth
    rt = oauth.refresh_tokens.get(value)
    at = oauth.access_tokens.get(value)
    grant_id = (
        rt.grant_id if rt and not rt.revoked else (at.grant_id if at and not at.revoked else None)
    )
    if grant_id is None or oauth.grants[grant_id].revoked:
        return _json(
            400, {"error": "invalid_token", "error_description": "Token expired or revoked"}
        )
    oauth.revoke_grant(grant_id)
    return _json(200, {})


async def tokeninfo(request: web.Request, engine: Engine) -> web.StreamResponse:
    at = engine.oauth.access_valid(request.query.get("access_token", ""))
    if at is None:
        return _json(400, {"error": "invalid_token", "error_description": "Invalid Value"})
    remaining = int(at.expires_at - engine.clock.now())
    body: dict[str, Any] = {
        "azp": at.client_id,
        "aud": at.client_id,
        "sub": _sub(at.email),
        "scope": " ".join(at.scopes),
        "exp": str(int(at.expires_at)),
        "expires_in": str(remaining),
        "access_type": "offline",
    }
    if {"email", "https://www.googleapis.com/auth/userinfo.email"} & set(at.scopes):
        body.update({"email": at.email, "email_verified": "true"})
    return _json(200, body)


async def userinfo(request: web.Request, engine: Engine) -> web.StreamResponse:
    header = request.headers.get("Authorization", "")
    at = engine.oauth.access_valid(header[7:].strip()) if header[:7].lower() == "bearer " else None
    if at is None:
        return web.Response(
            status=401,
            headers={
                "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
                'error="invalid_token"'
            },
        )
    body: dict[str, Any] = {"sub": _sub(at.email)}
    if {"email", "https://www.googleapis.com/auth/userinfo.email"} & set(at.scopes):
        body.update({"email": at.email, "email_verified": True})
    account = engine.store.account(at.email)
    if account is not None and account.display_name and "profile" in at.scopes:
        body["name"] = account.display_name
    return _json(200, body)
