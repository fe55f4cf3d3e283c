"""The admin login: bcrypt password, throttling, CSRF on the login form, cookie flags, headers."""

from __future__ import annotations

from pathlib import Path

from bridge.web.admin.sessions import SessionStore
from bridge.web.admin.throttle import LoginThrottle
from tests.admin.support import BridgeServer, Client


def test_pages_need_a_signed_in_session(client: Client) -> None:
    reply = client.get("/admin")
    assert reply.status == 303
    assert reply.location == "/admin/login"
    assert client.get("/admin/jobs/x").status == 401


def test_right_password_signs_in(client: Client) -> None:
    reply = client.login()
    assert reply.status == 303 and reply.location == "/admin"
    page = client.get("/admin")
    assert page.status == 200
    assert "Sign in with Google" in page.text
    assert "User calendars" in page.text


def test_wrong_password_is_refused(client: Client) -> None:
    reply = client.login(password="wrong")
    assert reply.status == 401
    assert "Wrong user name or password" in reply.text
    assert client.get("/admin").status == 303


def test_wrong_user_name_is_refused(client: Client) -> None:
    reply = client.login(username="root")
    assert reply.status == 401
    assert client.get("/admin").status == 303


def test_login_without_csrf_token_is_refused(client: Client) -> None:
    client.get("/admin/login")  # gets a session cookie, but the token is left out
    reply = client.post("/admin/login", {"username": "admin", "password": "x"})
    assert reply.status == 403
    assert client.get("/admin").status == 303


def test_login_with_another_sessions_token_is_refused(bridge: BridgeServer) -> None:
    first, second = Client(bridge.url), Client(bridge.url)
    token = first.csrf("/admin/login")
    second.get("/admin/login")
    reply = second.post("/admin/login", {"csrf": token, "username": "admin", "password": "x"})
    assert reply.status == 403


def test_repeated_wrong_passwords_are_throttled(client: Client) -> None:
    for _ in range(5):
        assert client.login(password="nope").status == 401
    reply = client.login()  # even the right password waits now
    assert reply.status == 429
    assert "Too many wrong passwords" in reply.text


def test_session_cookie_flags(client: Client) -> None:
    reply = client.get("/admin/login")
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/admin" in cookie
    assert "Secure" not in cookie  # base_url is http here


def test_session_id_changes_at_login(client: Client) -> None:
    client.get("/admin/login")
    before = {c.value for c in client.jar}
    client.login()
    after = {c.value for c in client.jar}
    assert before and after and not before & after


def test_secure_cookie_with_https_base_url() -> None:
    from aiohttp import web

    from bridge.web.admin.sessions import COOKIE

    store = SessionStore(secure=True)
    response = web.Response()
    store.set_cookie(response, store._new())
    assert "Secure" in response.cookies[COOKIE].output()


def test_security_headers(admin: Client) -> None:
    reply = admin.get("/admin")
    headers = reply.headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"


def test_sign_out(admin: Client) -> None:
    token = admin.csrf()
    reply = admin.post("/admin/logout", {"csrf": token})
    assert reply.status == 303 and reply.location == "/admin/login"
    assert admin.get("/admin").status == 303


def test_throttle_counts_per_client_and_overall() -> None:
    now = [0.0]
    throttle = LoginThrottle(per_client=2, overall=3, window=60, clock=lambda: now[0])
    throttle.failed("a")
    assert throttle.wait("a") == 0
    throttle.failed("a")
    assert throttle.wait("a") == 60
    assert throttle.wait("b") == 0
    throttle.failed("b")
    assert throttle.wait("c") > 0  # three failures overall lock everyone out
    now[0] = 61
    assert throttle.wait("a") == 0 and throttle.wait("c") == 0


def test_admin_page_off_without_password_hash(tmp_path: Path) -> None:
    from bridge import config
    from bridge.web.app import create_app

    settings = config.parse(
        f"[bridge]\ntimezone = America/Chicago\ndata_dir = {tmp_path}\n", str(tmp_path / "b.ini")
    )
    from tests.support import ServerThread, http

    with ServerThread(create_app(settings, mirror=False)) as server:
        reply = http("GET", server.url + "/admin")
    assert reply.status == 503
    assert b"password_hash" in reply.body


def test_login_page_flood_does_not_sign_out_the_admin(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bridge.web.admin import sessions

    monkeypatch.setattr(sessions, "MAX_SESSIONS", 5)
    store = SessionStore(secure=False)
    admin = store.login(store._new(), "admin")
    for _ in range(20):
        store._new()
    assert store.find(admin.id) is admin
