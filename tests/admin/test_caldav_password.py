"""Setting a technician's CalDAV password from the admin page: made up by the bridge, shown
once on the answer, stored as bcrypt, never logged; CSRF-protected; only for known people."""

from __future__ import annotations

import logging
import re

import bcrypt
import pytest

from bridge.caldav import htpasswd
from tests.admin.support import BridgeServer, Client


def shown_password(text: str) -> str:
    found = re.search(r'<code class="password">([^<]+)</code>', text)
    assert found, text
    return found.group(1)


def test_set_then_reset(
    admin: Client, bridge: BridgeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = bridge.settings.data_path(bridge.settings.caldav.htpasswd)
    page = admin.get("/admin")
    assert "No CalDAV password yet." in page.text
    assert 'action="/admin/logins/chris/password"' in page.text

    reply = admin.post("/admin/logins/chris/password", {"csrf": admin.csrf()})
    assert reply.status == 200, reply.text
    assert "no-store" in reply.headers["Cache-Control"]
    first = shown_password(reply.text)
    digest = htpasswd.digest_of(path, "chris")
    assert digest and bcrypt.checkpw(first.encode(), digest.encode())
    assert "Signs in as" in admin.get("/admin").text

    reply = admin.post("/admin/logins/chris/password", {"csrf": admin.csrf()})
    second = shown_password(reply.text)
    assert second != first and "The old password stopped working" in reply.text
    digest = htpasswd.digest_of(path, "chris")
    assert digest and bcrypt.checkpw(second.encode(), digest.encode())
    assert not bcrypt.checkpw(first.encode(), digest.encode())
    assert first not in caplog.text and second not in caplog.text
    assert second not in admin.get("/admin").text  # shown once


def test_refused_without_csrf_or_for_strangers(admin: Client, bridge: BridgeServer) -> None:
    path = bridge.settings.data_path(bridge.settings.caldav.htpasswd)
    assert admin.post("/admin/logins/chris/password", {}).status == 403
    assert not htpasswd.has_login(path, "chris")
    assert admin.post("/admin/logins/mallory/password", {"csrf": admin.csrf()}).status == 404
    assert admin.post("/admin/logins/..%2Fx/password", {"csrf": admin.csrf()}).status == 404
    assert not htpasswd.logins(path)


def test_signed_out_cannot_set(client: Client, bridge: BridgeServer) -> None:
    client.get("/admin/login")
    reply = client.post("/admin/logins/chris/password", {"csrf": client.csrf("/admin/login")})
    assert reply.status == 401
