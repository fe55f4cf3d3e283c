"""``[web] trusted_proxies``: X-Forwarded-For and -Proto are believed only from the listed
proxies; the client is the rightmost untrusted hop; the admin cookie is ``Secure`` when a
trusted proxy says https. (Through a real nginx: tests/deploy/.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import ConfigError, load
from tests.admin.support import BridgeServer, Client


def failed_from(server: BridgeServer, headers: dict[str, str]) -> None:
    client = Client(server.url)
    token = client.csrf("/admin/login")
    reply = client.request(
        "POST",
        "/admin/login",
        {"csrf": token, "username": "admin", "password": "wrong"},
        headers=headers,
    )
    assert reply.status == 401


@pytest.mark.parametrize(
    ("trusted", "forwarded", "client"),
    [
        ("", "203.0.113.7", "127.0.0.1"),  # no trusted proxies: the header is ignored
        ("10.0.0.0/8", "203.0.113.7", "127.0.0.1"),  # the peer is not a trusted proxy
        ("127.0.0.1", "203.0.113.7", "203.0.113.7"),
        ("127.0.0.1", "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the left one is forgeable
        ("127.0.0.0/8, 10.0.0.0/8", "203.0.113.7, 10.1.2.3", "203.0.113.7"),  # two proxies
        ("127.0.0.1", "127.0.0.1", "127.0.0.1"),  # every hop trusted: the leftmost
        ("127.0.0.1, ::1", "2001:db8::5", "2001:db8::5"),
    ],
)
def test_client_address(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, trusted: str, forwarded: str, client: str
) -> None:
    extra = f"[web]\ntrusted_proxies = {trusted}\n" if trusted else ""
    with BridgeServer(tmp_path, extra=extra) as server:
        caplog.set_level("WARNING", logger="bridge.web.admin.login")
        failed_from(server, {"X-Forwarded-For": forwarded})
    assert f"admin login failed from {client}" in caplog.text, caplog.text


@pytest.mark.parametrize(
    ("trusted", "proto", "secure"),
    [("127.0.0.1", "https", True), ("127.0.0.1", "http", False), ("", "https", False)],
)
def test_cookie_is_secure_when_a_trusted_proxy_says_https(
    tmp_path: Path, trusted: str, proto: str, secure: bool
) -> None:
    extra = f"[web]\ntrusted_proxies = {trusted}\n" if trusted else ""
    with BridgeServer(tmp_path, extra=extra) as server:  # base_url is http://
        reply = Client(server.url).request(
            "GET", "/admin/login", headers={"X-Forwarded-Proto": proto}
        )
    assert ("Secure" in reply.headers["Set-Cookie"]) is secure


def test_bad_trusted_proxies_are_a_config_error(tmp_path: Path) -> None:
    ini = tmp_path / "bridge.ini"
    ini.write_text("[bridge]\ntimezone = UTC\n[web]\ntrusted_proxies = 127.0.0.1, nginx\n")
    with pytest.raises(ConfigError, match="'nginx' is not an IP address"):
        load(ini)
