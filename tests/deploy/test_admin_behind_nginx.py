"""The admin page through nginx over https: Chromium signs in and gets a ``Secure`` cookie,
sets a technician's CalDAV password that works at once through the proxy; the login throttle
and the logs see the client's address as forwarded by the trusted proxy, and a forged
X-Forwarded-For from anyone else changes nothing."""

from __future__ import annotations

import http.client
import re
from typing import Any

import caldav

from tests.admin.support import PASSWORD
from tests.deploy.conftest import CHRIS_PASSWORD, Deployment
from tests.support import run_cli

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _form_login(send: Any, password: str, extra: dict[str, str] | None = None) -> tuple[int, str]:
    """Load the login page and post the form with its cookie and CSRF token: the answer's
    status and the cookie the login page set."""
    status, headers, body = send("GET", "/admin/login", None, extra or {})
    assert status == 200, body
    set_cookie = headers["Set-Cookie"]
    cookie = set_cookie.split(";", 1)[0]
    found = re.search(rb'name="csrf" value="([^"]+)"', body)
    assert found
    form = f"csrf={found.group(1).decode()}&username=admin&password={password}".encode()
    status, _, _ = send("POST", "/admin/login", form, {**FORM, "Cookie": cookie, **(extra or {})})
    return status, set_cookie


def test_browser_signs_in_and_sets_a_caldav_password(deployment: Deployment, browser: Any) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(deployment.url + "/admin")
        expect(page).to_have_url(deployment.url + "/admin/login")
        page.get_by_label("User name").fill("admin")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(deployment.url + "/admin")
        (cookie,) = [c for c in context.cookies() if c["name"] == "ipoint_admin"]
        assert cookie["secure"] and cookie["httpOnly"] and cookie["path"] == "/admin"

        chris = page.locator("#cal-chris")
        caldav_url = chris.locator("input[id^=caldav-]")
        expect(caldav_url).to_have_value(deployment.url + "/caldav/chris/ipoint/")
        chris.locator("summary", has_text="CalDAV password").click()
        chris.locator("button.set-password").click()
        password = page.locator("code.password").inner_text()
        expect(page.locator("code.server")).to_have_text(deployment.url + "/caldav")
    finally:
        context.close()

    client = caldav.DAVClient(
        url=deployment.url + "/caldav/",
        username="chris",
        password=password,
        ssl_verify_cert=str(deployment.nginx.cafile),
    )
    assert any("ipoint" in str(c.url) for c in client.principal().calendars())
    # Back to the password the other tests use, from the command line this time.
    config = str(deployment.serve.config)
    restored = run_cli("-c", config, "users", "passwd", "chris", input=CHRIS_PASSWORD + "\n")
    assert restored.returncode == 0, restored.stderr


def test_throttle_keys_on_the_forwarded_address(deployment: Deployment) -> None:
    nginx = deployment.nginx

    def from_2(method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Any:
        return nginx.request(method, path, body, headers, source="127.0.0.2")

    for _ in range(5):
        status, cookie = _form_login(from_2, "wrong")
        assert status == 401 and "Secure" in cookie
    assert _form_login(from_2, PASSWORD)[0] == 429
    # A forged X-Forwarded-For from 127.0.0.2 is left of the address nginx appends: ignored.
    forged = {"X-Forwarded-For": "127.0.0.9"}
    assert _form_login(from_2, PASSWORD, forged)[0] == 429
    # Another client through the same proxy is not held back with 127.0.0.2.
    assert _form_login(nginx.request, PASSWORD)[0] == 303
    # Straight to the web server (not a trusted proxy): its forged header names the locked-out
    # address, yet the request is keyed on its own, which may still try.
    host, port = deployment.serve.address("web").split(":")

    def direct(method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Any:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            answer = conn.getresponse()
            return answer.status, dict(answer.getheaders()), answer.read()
        finally:
            conn.close()

    assert _form_login(direct, PASSWORD, {"X-Forwarded-For": "127.0.0.2"})[0] == 303
    log = deployment.serve.stderr()
    assert "admin login failed from 127.0.0.2" in log
    assert "admin login failed from 127.0.0.3" not in log  # nginx's own address
    assert "127.0.0.9" not in log
