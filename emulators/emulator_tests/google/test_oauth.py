"""OAuth 2.0 at the emulator: consent page, code + PKCE, refresh, revoke, testing-mode expiry."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request
from google_emulator.settings import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    EmulatorSettings,
    OAuthClientSpec,
)
from google_emulator.testing import EmulatorThread

from emulator_tests.google.helpers import Api, Reply, http

SCOPE = "https://www.googleapis.com/auth/calendar"
REDIRECT = "http://127.0.0.1:8765/oauth/callback"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _post_form_no_redirect(url: str, form: dict[str, str]) -> tuple[int, str]:
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=urlencode(form).encode(), method="POST")
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location", "")


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode()
    return verifier, challenge.rstrip("=")


def _authorize(
    emu: EmulatorThread, challenge: str | None, *, action: str = "allow", **extra: str
) -> dict[str, list[str]]:
    params = {
        "client_id": DEFAULT_CLIENT_ID,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": SCOPE,
        "state": "xyz",
        "access_type": "offline",
        **extra,
    }
    if challenge:
        params.update({"code_challenge": challenge, "code_challenge_method": "S256"})
    page = http("GET", f"{emu.base_url}/o/oauth2/v2/auth?{urlencode(params)}")
    assert page.status == 200
    assert 'id="allow"' in page.body and "demo@example.com" in page.body
    pending = re.search(r'name="pending" value="([^"]+)"', page.body)
    assert pending is not None
    status, location = _post_form_no_redirect(
        f"{emu.base_url}/signin/oauth/consent",
        {"pending": pending.group(1), "email": "demo@example.com", "action": action},
    )
    assert status == 302
    assert location.startswith(REDIRECT)
    return parse_qs(urlsplit(location).query)


def _token(emu: EmulatorThread, **form: str) -> Reply:
    data = {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET, **form}
    return http(
        "POST",
        f"{emu.base_url}/token",
        raw=urlencode(data).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def test_code_flow_with_pkce_then_refresh(emu: EmulatorThread) -> None:
    verifier, challenge = _pkce()
    query = _authorize(emu, challenge)
    assert query["state"] == ["xyz"]
    code = query["code"][0]
    reply = _token(
        emu,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=verifier,
    )
    assert reply.status == 200
    assert reply.body["token_type"] == "Bearer"
    assert reply.body["expires_in"] == 3600
    assert reply.body["scope"] == SCOPE
    refresh = reply.body["refresh_token"]
    reused = _token(
        emu,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=verifier,
    )
    assert (reused.status, reused.body["error"]) == (400, "invalid_grant")
    fresh = _token(emu, grant_type="refresh_token", refresh_token=refresh)
    assert fresh.status == 200
    assert "refresh_token" not in fresh.body
    calendars = http(
        "GET",
        f"{emu.base_url}/calendar/v3/users/me/calendarList",
        headers={"Authorization": f"Bearer {fresh.body['access_token']}"},
    )
    assert calendars.status == 200
    info = http("GET", f"{emu.base_url}/tokeninfo?access_token={fresh.body['access_token']}")
    assert info.body["aud"] == DEFAULT_CLIENT_ID
    assert info.body["scope"] == SCOPE


def test_pkce_failures_and_redirect_mismatch(emu: EmulatorThread) -> None:
    verifier, challenge = _pkce()
    code = _authorize(emu, challenge)["code"][0]
    missing = _token(emu, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert missing.body == {"error": "invalid_grant", "error_description": "Missing code verifier."}
    wrong = _token(
        emu,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=secrets.token_urlsafe(48),
    )
    assert wrong.body == {"error": "invalid_grant", "error_description": "Invalid code verifier."}
    other_uri = _token(
        emu,
        grant_type="authorization_code",
        code=code,
        redirect_uri="http://127.0.0.1:9999/elsewhere",
        code_verifier=verifier,
    )
    assert (other_uri.status, other_uri.body["error"]) == (400, "redirect_uri_mismatch")


def test_client_authentication_and_bad_requests(emu: EmulatorThread) -> None:
    bad_secret = _token(emu, grant_type="refresh_token", refresh_token="x", client_secret="nope")
    assert (bad_secret.status, bad_secret.body["error"]) == (401, "invalid_client")
    unknown = _token(emu, grant_type="refresh_token", refresh_token="x", client_id="who")
    assert (unknown.status, unknown.body["error"]) == (401, "invalid_client")
    dead = _token(emu, grant_type="refresh_token", refresh_token="1//nothing")
    assert dead.body == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }
    assert _token(emu, grant_type="password").body["error"] == "unsupported_grant_type"


def test_deny_and_authorization_endpoint_errors(emu: EmulatorThread) -> None:
    denied = _authorize(emu, None, action="deny")
    assert denied == {"error": ["access_denied"], "state": ["xyz"]}
    unknown = http(
        "GET", f"{emu.base_url}/o/oauth2/v2/auth?client_id=nobody&redirect_uri={REDIRECT}"
    )
    assert unknown.status == 401
    assert "invalid_client" in unknown.body
    params = urlencode(
        {
            "client_id": DEFAULT_CLIENT_ID,
            "redirect_uri": "https://evil.test/cb",
            "scope": SCOPE,
            "response_type": "code",
        }
    )
    mismatch = http("GET", f"{emu.base_url}/o/oauth2/v2/auth?{params}")
    assert mismatch.status == 400
    assert "redirect_uri_mismatch" in mismatch.body


def test_refresh_token_only_on_first_consent_or_prompt_consent(emu: EmulatorThread) -> None:
    first = _authorize(emu, None)["code"][0]
    assert (
        "refresh_token"
        in _token(emu, grant_type="authorization_code", code=first, redirect_uri=REDIRECT).body
    )
    again = _authorize(emu, None)["code"][0]
    assert (
        "refresh_token"
        not in _token(emu, grant_type="authorization_code", code=again, redirect_uri=REDIRECT).body
    )
    forced = _authorize(emu, None, prompt="consent")["code"][0]
    assert (
        "refresh_token"
        in _token(emu, grant_type="authorization_code", code=forced, redirect_uri=REDIRECT).body
    )


def test_revoke_kills_the_grant(emu: EmulatorThread) -> None:
    info = emu.authorized_user_info("demo@example.com")
    revoked = http(
        "POST",
        f"{emu.base_url}/revoke",
        raw=urlencode({"token": info["access_token"]}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert revoked.status == 200
    dead = _token(emu, grant_type="refresh_token", refresh_token=info["refresh_token"])
    assert dead.body["error"] == "invalid_grant"
    api_call = http(
        "GET",
        f"{emu.base_url}/calendar/v3/users/me/calendarList",
        headers={"Authorization": f"Bearer {info['access_token']}"},
    )
    assert api_call.status == 401
    assert api_call.body["error"]["errors"][0]["reason"] == "authError"


def test_control_revocation_makes_google_auth_raise(emu: EmulatorThread) -> None:
    creds = emu.credentials("demo@example.com")
    emu.control("POST", "oauth/revoke_refresh_tokens", {"user": "demo@example.com"})
    with pytest.raises(RefreshError, match="invalid_grant"):
        creds.refresh(Request())


def test_testing_mode_refresh_tokens_die_after_seven_days() -> None:
    client = OAuthClientSpec("testing-client", "s3cret", testing=True)
    with EmulatorThread(EmulatorSettings(clients=(client,))) as emu:
        info = emu.authorized_user_info("demo@example.com", client_id="testing-client")
        form = {"client_id": "testing-client", "client_secret": "s3cret"}
        ok = _token(emu, grant_type="refresh_token", refresh_token=info["refresh_token"], **form)
        assert ok.status == 200
        emu.control("POST", "clock", {"advance_seconds": 7 * 24 * 3600 - 60})
        still = _token(emu, grant_type="refresh_token", refresh_token=info["refresh_token"], **form)
        assert still.status == 200
        emu.control("POST", "clock", {"advance_seconds": 120})
        dead = _token(emu, grant_type="refresh_token", refresh_token=info["refresh_token"], **form)
        assert dead.body["error"] == "invalid_grant"


def test_access_tokens_expire_and_scopes_are_enforced(emu: EmulatorThread) -> None:
    api = Api(emu, "demo@example.com")
    emu.control("POST", "clock", {"advance_seconds": 3601})
    expired = api.call("GET", "users/me/calendarList")
    assert expired.status == 401
    assert expired.headers["WWW-Authenticate"].startswith("Bearer")
    readonly = Api(emu, "demo@example.com", ["https://www.googleapis.com/auth/calendar.readonly"])
    assert readonly.call("GET", readonly.events()).status == 200
    refused = readonly.insert({"start": {"date": "2030-01-01"}, "end": {"date": "2030-01-02"}})
    assert refused.status == 403
    assert refused.reason == "insufficientPermissions"
    app_only = Api(
        emu, "demo@example.com", ["https://www.googleapis.com/auth/calendar.app.created"]
    )
    assert app_only.call("GET", app_only.events()).status == 404
    made = app_only.call("POST", "calendars", {"summary": "iP Ann"}).body
    assert app_only.call("GET", app_only.events(made["id"])).status == 200
    acl = app_only.call("GET", f"calendars/{made['id']}/acl")
    assert acl.status == 403
    assert acl.reason == "insufficientPermissions"


def test_installed_client_accepts_any_loopback_port_and_web_client_needs_exact_uri() -> None:
    web_client = OAuthClientSpec(
        "web-client", "w", kind="web", redirect_uris=("https://shop.test/cb",)
    )
    with EmulatorThread(EmulatorSettings(clients=(web_client,))) as emu:
        base = {"client_id": "web-client", "scope": SCOPE, "response_type": "code"}
        loopback = http(
            "GET",
            f"{emu.base_url}/o/oauth2/v2/auth?"
            + urlencode({**base, "redirect_uri": "http://127.0.0.1:5000/cb"}),
        )
        assert loopback.status == 400
        exact = http(
            "GET",
            f"{emu.base_url}/o/oauth2/v2/auth?"
            + urlencode({**base, "redirect_uri": "https://shop.test/cb"}),
        )
        assert exact.status == 200
