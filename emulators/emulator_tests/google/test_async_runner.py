"""``run_emulator`` in an event loop, driven with a raw aiohttp client; userinfo and tokeninfo."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from google_emulator.runner import start_emulator
from google_emulator.settings import AccountSpec, EmulatorSettings
from google_emulator.testing import run_emulator


async def _scenario() -> None:
    settings = EmulatorSettings(accounts=(AccountSpec("ann@shop.test", "America/New_York"),))
    async with run_emulator(settings) as base, aiohttp.ClientSession() as session:
        async with session.post(
            f"{base}/_emulator/oauth/tokens",
            json={
                "email": "ann@shop.test",
                "scopes": ["https://www.googleapis.com/auth/calendar", "email"],
            },
        ) as reply:
            token = (await reply.json())["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        async with session.get(f"{base}/calendar/v3/calendars/primary", headers=auth) as reply:
            assert reply.status == 200
            primary = await reply.json()
            assert reply.headers["ETag"] == primary["etag"]
        assert primary["id"] == "ann@shop.test"
        assert primary["timeZone"] == "America/New_York"
        async with session.get(f"{base}/calendar/v3/calendars/primary") as reply:
            assert reply.status == 401
            body = await reply.json()
            assert body["error"]["errors"][0] == {
                "domain": "global",
                "reason": "authError",
                "message": "Invalid Credentials",
                "locationType": "header",
                "location": "Authorization",
            }
            assert body["error"]["status"] == "UNAUTHENTICATED"
        async with session.get(f"{base}/oauth2/v3/userinfo", headers=auth) as reply:
            info = await reply.json()
            assert info["email"] == "ann@shop.test"
            assert info["email_verified"] is True
        async with session.get(f"{base}/tokeninfo", params={"access_token": "nope"}) as reply:
            assert reply.status == 400


def test_run_emulator_async_context_manager() -> None:
    asyncio.run(_scenario())


async def _demo_runner(state: Path) -> None:
    handle = await start_emulator(
        state,
        port=0,
        account="shop@demo.test",
        client_id="demo-client",
        client_secret="demo-secret",
        redirect_uri="http://127.0.0.1:8080/admin/google/callback",
    )
    try:
        params = {
            "client_id": "demo-client",
            "redirect_uri": "http://127.0.0.1:8080/admin/google/callback",
            "response_type": "code",
            "scope": "https://www.googleapis.com/auth/calendar",
        }
        url = f"{handle.base_url}/o/oauth2/v2/auth"
        async with aiohttp.ClientSession() as session, session.get(url, params=params) as reply:
            assert reply.status == 200
            assert "shop@demo.test" in await reply.text()
    finally:
        await handle.stop()
    assert state.exists()


def test_demo_runner_registers_its_client_and_saves_state(tmp_path: Path) -> None:
    asyncio.run(_demo_runner(tmp_path / "google-emulator.json"))
