"""The admin page's FileMaker cards in a real browser: a source that reads (last read, records
read, a skipped record with its reason) and one whose password FileMaker refuses, in plain
words. Screenshots go to ``artifacts/admin/``."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from filemaker_emulator.testing import EmulatorThread as FileMakerThread
from google_emulator.testing import EmulatorThread

from tests.admin.conftest import CHROMIUM, browser_only, shot
from tests.admin.support import PASSWORD, BridgeServer
from tests.filemaker.support import work_order, work_orders_ini

if os.path.exists(CHROMIUM):
    from playwright.sync_api import Browser, expect

pytestmark = browser_only


@pytest.fixture
def shop(tmp_path: Path, emulator: EmulatorThread) -> Iterator[BridgeServer]:
    with FileMakerThread() as fm:
        day = dt.date(2026, 12, 2)
        fm.load(
            "Work Orders",
            [
                work_order(1, day),
                work_order(2, day, **{"Technician Login": "Chris M"}),
                work_order(3, day),
            ],
        )
        extra = work_orders_ini(fm.base_url) + work_orders_ini(
            fm.base_url, password="wrong"
        ).replace("[filemaker:workorders]", "[filemaker:office]").replace("WO-", "OF-")
        with BridgeServer(tmp_path, emulator_url=emulator.base_url, extra=extra) as server:
            yield server


def test_filemaker_sources_on_the_admin_page(browser: Browser, shop: BridgeServer) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(shop.url + "/admin/login")
        page.get_by_label("User name").fill("admin")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        card = page.locator("#fm-workorders")
        for _ in range(50):  # the first read runs beside the page: reload until it is done
            if "up to date" in (card.locator(".fm-state").text_content() or ""):
                break
            page.wait_for_timeout(200)
            page.reload()
        expect(card.locator(".fm-state")).to_have_text("Reading: up to date")
        expect(card.locator(".fm-read")).to_have_text("3")
        expect(card.locator(".fm-skipped li")).to_have_count(1)  # read twice, listed once
        expect(card.locator(".fm-skipped")).to_contain_text("WO-2")
        expect(card.locator(".fm-skipped")).to_contain_text("Technician Login")
        expect(card.locator(".fm-last-read")).to_contain_text("CST")
        office = page.locator("#fm-office")
        expect(office.locator(".fm-state")).to_have_text("Not reading: see the last error below")
        expect(office.locator(".fm-error")).to_contain_text("wrong username or password")
        shot(page, "20-filemaker-sources")
        assert "wrong" not in (office.text_content() or "").replace("wrong username", "")
    finally:
        context.close()
