"""End to end in a real browser with the real mirror: the admin signs in through the emulator's
consent page, the mirror picks up that sign-in, creates the technicians' Google calendars, and
Re-Push Future Events runs through the mirror until it finishes. Screenshots in
``artifacts/admin/``."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from google_emulator.testing import EmulatorThread

from bridge.caldav import start_caldav
from bridge.mirror.control import MIRROR_CONTROL
from bridge.mirror.service import MirrorService
from bridge.store import EventStore
from bridge.web.keys import SETTINGS
from tests.admin.conftest import CHROMIUM, browser_only, shot
from tests.admin.support import PASSWORD, BridgeServer
from tests.admin.test_actions import add_events
from tests.mirror.support import FAST

if os.path.exists(CHROMIUM):
    from playwright.sync_api import Browser, expect

pytestmark = browser_only


@pytest.fixture
def live_shop(
    tmp_path: Path, emulator: EmulatorThread
) -> Iterator[tuple[BridgeServer, EmulatorThread]]:
    handles = []

    def prepare(app: web.Application, store: EventStore) -> None:
        settings = app[SETTINGS]
        caldav = start_caldav(settings, store=store, host="127.0.0.1", port=0)
        handles.append(caldav)

        async def mirror_ctx(app: web.Application) -> AsyncIterator[None]:
            # As bridge.web.app.mirror_ctx, with the CalDAV server's real port.
            service = MirrorService(settings, store, caldav_base=caldav.url, tuning=FAST)
            app[MIRROR_CONTROL] = service
            await service.start()
            yield
            await service.stop()

        app.cleanup_ctx.append(mirror_ctx)

    caldav_ini = "service_user = ipoint-mirror\nservice_password = mirror-secret\n"
    try:
        with BridgeServer(
            tmp_path,
            emulator_url=emulator.base_url,
            extra="enabled = yes\n[mirror]\ninterval_seconds = 0.2\n",
            caldav=caldav_ini,
            prepare=prepare,
        ) as server:
            add_events(server, 6)
            yield server, emulator
    finally:
        for handle in handles:
            handle.stop()


def test_sign_in_then_repush_through_the_real_mirror(
    browser: Browser,
    live_shop: tuple[BridgeServer, EmulatorThread],
) -> None:
    bridge, emulator = live_shop
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        page.goto(bridge.url + "/admin/login")
        page.get_by_label("User name").fill("admin")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.locator("#sign-in").click()
        page.locator("#allow").click()
        expect(page.locator("#auth-status")).to_contain_text("You are authorized as")

        # The mirror notices the new sign-in and creates "iP Chris" in Google.
        link = page.locator("#cal-chris a", has_text="iP Chris")
        for _ in range(100):
            if link.count():
                break
            page.wait_for_timeout(200)
            page.reload()
        expect(link).to_be_visible()
        expect(page.locator("#cal-chris")).to_contain_text("reader: boss@example.com")
        public = page.locator("#cal-chris input[id^=public-]")
        expect(public).to_have_value(re.compile(r"/calendar/ical/.+/public/basic\.ics$"))
        shot(page, "20-live-calendars")

        page.locator("#repush > summary").click()
        page.locator("#repush-confirm").click()
        expect(page.locator("#job .job-text")).to_contain_text(
            "Re-Push Future Events finished", timeout=60_000
        )
        shot(page, "21-live-repush-finished")
    finally:
        context.close()
    snapshot = emulator.control("GET", "snapshot")
    titles = {
        e.get("summary")
        for cal in snapshot["calendars"]
        if cal["calendar"].get("summary") == "iP Chris"
        for e in cal["events"]
        if e.get("status") != "cancelled"
    }
    assert {f"Job {i}" for i in range(6)} <= titles
