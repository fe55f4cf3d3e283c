"""The admin page in a real browser: Playwright drives Debian's Chromium through the whole
Google integration screen against the emulator. Screenshots go to ``artifacts/admin/``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from google_emulator.testing import EmulatorThread

from tests.admin.conftest import CHROMIUM, browser_only, shot
from tests.admin.support import PASSWORD, BridgeServer, FakeMirror, with_fake_mirror
from tests.admin.test_actions import add_events

if os.path.exists(CHROMIUM):
    from playwright.sync_api import Browser, expect

pytestmark = browser_only


@pytest.fixture
def shop(tmp_path: Path, emulator: EmulatorThread) -> Iterator[tuple[BridgeServer, FakeMirror]]:
    holder: dict[str, FakeMirror] = {}
    extra = "enabled = yes\n[calendar:sam]\nname = Sam\nshare_domain = example.com\n"
    with BridgeServer(
        tmp_path,
        emulator_url=emulator.base_url,
        extra=extra,
        prepare=with_fake_mirror(holder, step_seconds=0.1),
    ) as server:
        add_events(server, 12)
        yield server, holder["mirror"]


def test_google_integration_screen(browser: Browser, shop: tuple[BridgeServer, FakeMirror]) -> None:
    bridge, mirror = shop
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        # Sign in to the admin page.
        page.goto(bridge.url + "/admin")
        expect(page).to_have_url(bridge.url + "/admin/login")
        page.get_by_label("User name").fill("admin")
        page.get_by_label("Password").fill(PASSWORD)
        shot(page, "01-login")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#auth-status")).to_contain_text("Not signed in yet")
        shot(page, "02-not-signed-in")

        # Step 1: Sign in with Google, through the emulator's consent page.
        page.locator("#sign-in").click()
        expect(page.locator("#allow")).to_be_visible()
        shot(page, "03-google-consent")
        page.locator("#allow").click()

        # Step 2: authorized.
        expect(page.locator("#auth-status")).to_contain_text("You are authorized as")
        expect(page.locator("#auth-status")).to_contain_text("demo@example.com")
        shot(page, "04-authorized")

        # Step 3: every technician's calendar with its addresses.
        chris = page.locator("#cal-chris")
        expect(chris).to_contain_text("iP Chris")
        expect(chris).to_contain_text("boss@example.com")
        expect(page.locator("#cal-sam")).to_contain_text("everyone at example.com")
        feed = chris.locator("input[id^=feed-]")
        old_feed = feed.input_value()
        assert old_feed.startswith(bridge.url + "/feeds/")
        assert (
            chris.locator("a.webcal").get_attribute("href")
            == "webcal://" + old_feed.split("://", 1)[1]
        )
        chris.locator("button[data-copy^=feed-]").click()
        expect(chris.locator("button[data-copy^=feed-]")).to_have_text("Copied")
        shot(page, "05-user-calendars")

        # Re-Push Future Events: confirm, then watch the progress until it finishes.
        page.locator("#repush > summary").click()
        page.locator("#repush-confirm").click()
        job = page.locator("#job .job-text")
        expect(job).to_contain_text("Re-Push Future Events")
        shot(page, "06-repush-running")
        expect(job).to_contain_text("finished: 12 events sent to Google", timeout=30_000)
        expect(page.locator("#job progress")).to_have_attribute("value", "12")
        assert mirror.runs == ["repush"]
        shot(page, "07-repush-finished")

        # Rotate the secret feed address.
        chris = page.locator("#cal-chris")
        chris.locator("details.confirm > summary", has_text="Rotate").click()
        chris.locator("button.rotate").click()
        expect(page.locator(".flash.ok")).to_contain_text("new feed address")
        new_feed = page.locator("#cal-chris input[id^=feed-]").input_value()
        assert new_feed != old_feed and new_feed.startswith(bridge.url + "/feeds/")
        shot(page, "08-feed-rotated")

        # Reconcile now.
        page.locator("#reconcile").click()
        expect(page.locator("#job .job-text")).to_contain_text("Reconcile finished", timeout=30_000)
    finally:
        context.close()


def test_usable_on_a_phone(browser: Browser, shop: tuple[BridgeServer, FakeMirror]) -> None:
    bridge, _ = shop
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(bridge.url + "/admin/login")
        page.get_by_label("User name").fill("admin")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#step3")).to_be_visible()
        # Nothing wider than the screen: no sideways scrolling on a phone.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        shot(page, "09-phone")
    finally:
        context.close()


def test_having_trouble_manual_path(
    browser: Browser, shop: tuple[BridgeServer, FakeMirror]
) -> None:
    """The sign-in link opened in another browser; its final address pasted back."""
    bridge, _ = shop
    admin = browser.new_context()
    other = browser.new_context()  # e.g. the admin's phone: no admin session there
    try:
        page = admin.new_page()
        page.set_default_timeout(15_000)
        page.goto(bridge.url + "/admin/login")
        page.get_by_label("User name").fill("admin")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.locator("#trouble > summary").click()
        page.locator("#make-link").click()
        link = page.locator("#manual-url").input_value()
        assert "code_challenge_method=S256" in link
        shot(page, "10-having-trouble")

        phone = other.new_page()
        phone.set_default_timeout(15_000)
        phone.goto(link)
        phone.locator("#allow").click()
        expect(phone.locator("h1")).to_have_text("Sign-in refused")
        shot(phone, "11-other-browser-lands-here")
        final_address = phone.url
        assert "code=" in final_address

        page.locator("textarea[name=address]").fill(final_address)
        page.locator("#paste-submit").click()
        expect(page.locator("#auth-status")).to_contain_text("You are authorized as")
        shot(page, "12-authorized-after-paste")
    finally:
        admin.close()
        other.close()
