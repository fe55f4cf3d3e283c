"""Google sign-in from the admin page, against the emulator over real HTTP: the web flow, the
manual paste, and every refusal (replayed state, forged callback, other session, no CSRF)."""

from __future__ import annotations

import html
import json
import logging
import re
import stat
from urllib.parse import parse_qs, urlsplit

import pytest
from google_emulator.testing import EmulatorThread

from tests.admin.support import BridgeServer, Client, consent


def start_sign_in(admin: Client, mode: str = "") -> str:
    """Press "Sign in with Google"; returns the consent-page address the bridge sent us to."""
    form = {"csrf": admin.csrf()}
    if mode:
        form["mode"] = mode
    reply = admin.post("/admin/google/start", form)
    assert reply.status == 303, reply.text
    if mode == "manual":
        assert reply.location == "/admin#trouble"
        found = re.search(r'id="manual-url" readonly value="([^"]+)"', admin.get("/admin").text)
        assert found
        return html.unescape(found.group(1))
    return reply.location


def credentials(bridge: BridgeServer) -> dict[str, object]:
    path = bridge.settings.data_path(bridge.settings.google.credentials)
    return json.loads(path.read_text())


def test_authorization_request_has_state_pkce_offline_consent(
    admin: Client, bridge: BridgeServer
) -> None:
    url = start_sign_in(admin)
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(bridge.settings.google.auth_uri + "?")
    assert params["redirect_uri"] == bridge.url + "/admin/google/callback"
    assert params["code_challenge_method"] == "S256"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", params["code_challenge"])
    assert len(params["state"]) >= 32
    assert params["access_type"] == "offline"
    assert params["prompt"] == "consent"
    assert params["response_type"] == "code"


def test_sign_in_writes_private_credentials_and_shows_who(
    admin: Client, bridge: BridgeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert "Not signed in yet" in admin.get("/admin").text
    callback = consent(start_sign_in(admin))
    code = parse_qs(urlsplit(callback).query)["code"][0]
    reply = admin.get(callback)
    assert reply.status == 303 and reply.location == "/admin#step2"

    path = bridge.settings.data_path(bridge.settings.google.credentials)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    info = credentials(bridge)
    assert info["type"] == "authorized_user"
    assert info["client_id"] == bridge.settings.google.client_id
    assert info["token_uri"] == bridge.settings.google.token_uri
    assert info["account"] == "demo@example.com"
    refresh = str(info["refresh_token"])
    assert refresh

    page = admin.get("/admin").text
    assert "You are authorized as" in page and "demo@example.com" in page
    # Neither the refresh token, nor the one-time code, ever shows in a page or a log line.
    secrets = [refresh, code, bridge.settings.google.client_secret]
    logs = "\n".join(r.getMessage() for r in caplog.records)
    assert "Google authorization saved for demo@example.com" in logs  # the server's log is seen
    for secret in secrets:
        assert secret not in page
        assert secret not in logs


def test_replayed_state_is_refused(admin: Client, bridge: BridgeServer) -> None:
    callback = consent(start_sign_in(admin))
    assert admin.get(callback).status == 303
    before = credentials(bridge)
    replay = admin.get(callback)
    assert replay.status == 400
    assert "already used" in replay.text
    assert credentials(bridge) == before


def test_forged_callback_with_unknown_state_is_refused(admin: Client, bridge: BridgeServer) -> None:
    reply = admin.get("/admin/google/callback?state=forged&code=4/made-up")
    assert reply.status == 400
    assert "does not belong to any sign-in" in reply.text
    assert not bridge.settings.data_path(bridge.settings.google.credentials).exists()


def test_callback_in_another_session_is_refused_then_pasted_where_it_began(
    admin: Client, bridge: BridgeServer
) -> None:
    callback = consent(start_sign_in(admin, mode="manual"))
    # Another browser (signed in as admin too, or not at all) must not complete our sign-in.
    other = Client(bridge.url)
    other.login()
    assert other.get(callback).status == 400
    stranger = Client(bridge.url)
    refused = stranger.get(callback)
    assert refused.status == 400
    assert "copy this page's full address" in html.unescape(refused.text)
    assert not bridge.settings.data_path(bridge.settings.google.credentials).exists()
    # "Having trouble?": the admin pastes the address into the session that started it.
    reply = admin.post("/admin/google/paste", {"csrf": admin.csrf(), "address": callback})
    assert reply.status == 303 and reply.location == "/admin#step2"
    assert credentials(bridge)["account"] == "demo@example.com"


def test_manual_link_is_shown_for_having_trouble(admin: Client) -> None:
    reply = admin.post("/admin/google/start", {"csrf": admin.csrf(), "mode": "manual"})
    assert reply.status == 303 and reply.location == "/admin#trouble"
    page = admin.get("/admin").text
    assert 'id="manual-url"' in page and "code_challenge=" in page


def test_pasted_garbage_is_explained(admin: Client) -> None:
    reply = admin.post("/admin/google/paste", {"csrf": admin.csrf(), "address": "hello"})
    assert reply.status == 303
    assert "no sign-in code" in admin.get("/admin").text


def test_sign_in_start_without_csrf_is_refused(admin: Client) -> None:
    reply = admin.post("/admin/google/start", {})
    assert reply.status == 403
    reply = admin.post("/admin/google/start", {"csrf": "wrong"})
    assert reply.status == 403


def test_denied_consent_says_so(admin: Client, bridge: BridgeServer) -> None:
    callback = consent(start_sign_in(admin), action="deny")
    assert "error=access_denied" in callback
    assert admin.get(callback).status == 303
    assert "Allow was not pressed" in admin.get("/admin").text
    assert not bridge.settings.data_path(bridge.settings.google.credentials).exists()


def test_revoked_access_is_explained(
    admin: Client, bridge: BridgeServer, emulator: EmulatorThread
) -> None:
    admin.get(consent(start_sign_in(admin)))
    emulator.control("POST", "oauth/revoke_refresh_tokens", {})
    reply = admin.post("/admin/google/check", {"csrf": admin.csrf()})
    assert reply.status == 303
    page = admin.get("/admin").text
    assert "Access was revoked" in page


def test_disconnect_revokes_and_deletes(admin: Client, bridge: BridgeServer) -> None:
    admin.get(consent(start_sign_in(admin)))
    reply = admin.post("/admin/google/signout", {"csrf": admin.csrf()})
    assert reply.status == 303
    assert not bridge.settings.data_path(bridge.settings.google.credentials).exists()
    page = admin.get("/admin").text
    assert "Signed out of Google" in page and "Not signed in yet" in page
