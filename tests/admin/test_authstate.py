"""Step 2's answer in plain words: never signed in, revoked, expired (Google's 7 days for apps
left in "Testing"), misconfigured, service account; checked against the emulator."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from google_emulator.settings import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    EmulatorSettings,
    OAuthClientSpec,
)
from google_emulator.testing import EmulatorThread

from bridge import config
from bridge.google import oauth_flow
from bridge.web.admin.authstate import AuthState, check
from tests.admin.support import bridge_ini

DAY = 86400


@pytest.fixture
def testing_emulator() -> Iterator[EmulatorThread]:
    """An OAuth client whose consent screen is in the "Testing" publishing status."""
    client = OAuthClientSpec(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, testing=True)
    with EmulatorThread(EmulatorSettings(clients=(client,))) as emu:
        yield emu


def settings_for(tmp_path: Path, emulator_url: str, extra: str = "") -> config.Settings:
    ini = tmp_path / "bridge.ini"
    ini.write_text(bridge_ini(tmp_path / "data", "http://127.0.0.1:1", emulator_url) + extra)
    return config.load(ini)


def run_check(settings: config.Settings) -> AuthState:
    async def go() -> AuthState:
        async with aiohttp.ClientSession() as http:
            return await check(http, settings)

    return asyncio.run(go())


def sign_in(settings: config.Settings, emulator: EmulatorThread) -> Path:
    info = emulator.authorized_user_info("shop@example.com", list(oauth_flow.SCOPES))
    grant = oauth_flow.Grant(
        info["refresh_token"], "", tuple(oauth_flow.SCOPES), "shop@example.com"
    )
    return oauth_flow.save(settings, grant)


def test_never_signed_in(tmp_path: Path, emulator: EmulatorThread) -> None:
    state = run_check(settings_for(tmp_path, emulator.base_url))
    assert state.kind == "never" and not state.ok
    assert "Nobody has signed in" in state.detail


def test_authorized(tmp_path: Path, emulator: EmulatorThread) -> None:
    settings = settings_for(tmp_path, emulator.base_url)
    sign_in(settings, emulator)
    state = run_check(settings)
    assert state.kind == "authorized" and state.ok and state.email == "shop@example.com"


def test_revoked(tmp_path: Path, emulator: EmulatorThread) -> None:
    settings = settings_for(tmp_path, emulator.base_url)
    sign_in(settings, emulator)
    emulator.control("POST", "oauth/revoke_refresh_tokens", {})
    state = run_check(settings)
    assert state.kind == "revoked"
    assert "Sign in again" in state.detail


def test_expired_after_seven_days_in_testing(
    tmp_path: Path, testing_emulator: EmulatorThread
) -> None:
    settings = settings_for(tmp_path, testing_emulator.base_url)
    path = sign_in(settings, testing_emulator)
    assert run_check(settings).kind == "authorized"
    testing_emulator.control("POST", "clock", {"advance_seconds": 8 * DAY})
    signed_in = time.time() - 8 * DAY
    os.utime(path, (signed_in, signed_in))
    state = run_check(settings)
    assert state.kind == "expired"
    assert "7 days" in state.detail and "Testing" in state.detail
    assert "In production" in state.detail


def test_unconfigured_client(tmp_path: Path) -> None:
    ini = tmp_path / "bridge.ini"
    ini.write_text(bridge_ini(tmp_path / "data", "http://127.0.0.1:1"))
    state = run_check(config.load(ini))
    assert state.kind == "unconfigured" and "client_id" in state.detail


def test_unreadable_file(tmp_path: Path, emulator: EmulatorThread) -> None:
    settings = settings_for(tmp_path, emulator.base_url)
    path = settings.data_path(settings.google.credentials)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    assert run_check(settings).kind == "unreadable"


def test_unreachable_token_endpoint(tmp_path: Path, emulator: EmulatorThread) -> None:
    settings = settings_for(tmp_path, emulator.base_url)
    sign_in(settings, emulator)
    emulator.stop()
    state = run_check(settings)
    assert state.kind == "unreachable" and "Could not reach Google" in state.detail


def test_service_account(tmp_path: Path, emulator: EmulatorThread) -> None:
    key = tmp_path / "sa.json"
    key.write_text(
        json.dumps({"type": "service_account", "client_email": "bridge@p.iam.gserviceaccount.com"})
    )
    settings = settings_for(
        tmp_path,
        emulator.base_url,
        f"service_account = {key}\ndelegated_user = shop@example.com\n",
    )
    state = run_check(settings)
    assert state.kind == "service_account" and state.ok
    assert state.email == "shop@example.com"
    assert "domain-wide delegation" in state.detail


def test_admin_page_explains_the_testing_expiry(
    tmp_path: Path, testing_emulator: EmulatorThread
) -> None:
    from tests.admin.support import BridgeServer, Client, consent

    with BridgeServer(tmp_path, emulator_url=testing_emulator.base_url) as bridge:
        admin = Client(bridge.url)
        admin.login()
        start = admin.post("/admin/google/start", {"csrf": admin.csrf()})
        admin.get(consent(start.location))
        assert "You are authorized as" in admin.get("/admin").text
        testing_emulator.control("POST", "clock", {"advance_seconds": 8 * DAY})
        path = bridge.settings.data_path(bridge.settings.google.credentials)
        signed_in = time.time() - 8 * DAY
        os.utime(path, (signed_in, signed_in))
        admin.post("/admin/google/check", {"csrf": admin.csrf()})
        page = admin.get("/admin").text
    assert "The Google sign-in expired" in page
    assert oauth_flow.PUBLISHING_DOC_URL in page
    assert oauth_flow.EXPIRY_DOC_URL in page
