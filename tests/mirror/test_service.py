"""The daemon inside the web app: ``mirror_ctx`` starts and stops with the app, a change reaches
Google within seconds, the status object, Re-Push and Reconcile jobs, metrics."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from bridge import config
from bridge.mirror.service import MIRROR, MirrorService
from bridge.web.app import mirror_ctx
from bridge.web.keys import SETTINGS, STORE
from tests.mirror.support import Shop, record


def _serve_settings(shop: Shop, extra: str = "") -> config.Settings:
    text = shop.path.read_text().replace("port = 0", f"port = {shop.caldav.port}") + extra
    shop.path.write_text(text)
    return config.load(shop.path)


async def _wait(predicate: Any, timeout: float = 10.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if await asyncio.to_thread(predicate):
            return time.monotonic() - start
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


def test_mirror_ctx_runs_with_the_app_and_follows_changes_within_seconds(shop: Shop) -> None:
    settings = _serve_settings(shop, "[calendar:chris]\nshare_with = boss@example.com\n")
    shop.settings = settings
    shop.put(record("a"))

    async def main() -> None:
        app = web.Application()
        app[SETTINGS] = settings
        app[STORE] = shop.store
        app.cleanup_ctx.append(mirror_ctx)
        runner = web.AppRunner(app)
        await runner.setup()
        try:
            service: MirrorService = app[MIRROR]
            await _wait(
                lambda: (
                    "user:chris" in {c.key for c in service.status().calendars}
                    and service.status().pending == 0
                    and service.status().calendars[0].google_id != ""
                )
            )
            status = service.status()
            cal = status.calendars[0]
            assert cal.login == "chris" and cal.name == "iP Chris"
            assert cal.html_link and cal.acl == ("reader: boss@example.com",)
            assert status.authorized and status.pending == 0
            assert service.calendar_status("chris") is not None
            # A change reaches Google within seconds (the loop polls every 0.2 s here).
            shop.put(record("b", title="Fresh"))
            took = await _wait(
                lambda: any(e["summary"] == "Fresh" for e in shop.events("chris").values())
            )
            assert took < 5.0
            summary = await service.repush_future(lambda p: None)
            assert "sent to Google again" in summary
            summary = await service.reconcile(lambda p: None)
            assert "calendars checked" in summary
            figures = service.metrics()
            assert figures.google_calls["ok"] > 0
            assert figures.queue_depth == 0
        finally:
            await runner.cleanup()

    asyncio.run(main())


def test_status_reports_a_lost_sign_in(shop: Shop) -> None:
    settings = _serve_settings(shop)
    shop.put(record("a"))
    shop.emu.control("POST", "oauth/revoke_refresh_tokens", {})
    shop.emu.control("POST", "oauth/expire_access_tokens", {})

    async def main() -> None:
        service = MirrorService(settings, shop.store, caldav_base=shop.caldav.url)
        await service.start()
        try:
            await _wait(lambda: service.status().auth_reason != "")
            status = service.status()
            assert not status.authorized and "sign in again" in status.auth_reason
            assert status.pending == 1
        finally:
            await service.stop()

    asyncio.run(main())
