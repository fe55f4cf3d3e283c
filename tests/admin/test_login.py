"""The admin login: bcrypt password, throttling, CSRF on the login form, cookie flags, headers."""

from __future__ import annotations

from pathlib import Path

from bridge.config import AdminSettings
from bridge.store.db import SQLiteDatabase
from bridge.web.admin import schema
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


def _admin_db(tmp_path: Path) -> SQLiteDatabase:
    db = SQLiteDatabase(tmp_path / "admin.sqlite3")
    db.migrate(schema.COMPONENT, schema.STEPS)
    return db


def test_secure_cookie_with_https_base_url(tmp_path: Path) -> None:
    from aiohttp import web

    from bridge.web.admin.sessions import COOKIE

    store = SessionStore(_admin_db(tmp_path), secure=True)
    response = web.Response()
    store.set_cookie(response, store._insert(""))
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


def test_throttle_counts_before_checking_and_slows_down_instead_of_locking_out(
    tmp_path: Path,
) -> None:
    import asyncio
    import threading

    now = [0.0]
    settings = AdminSettings(login_attempts=2, login_window_seconds=60, login_slowdown_after=3)
    throttle = LoginThrottle(_admin_db(tmp_path), settings, clock=lambda: now[0])

    async def admit(client: str) -> tuple[bool, float, float]:
        async with throttle.attempt(client) as a:
            return a.allowed, a.wait, a.delay

    async def scenario() -> None:
        assert await admit("a") == (True, 0, 0)
        assert await admit("a") == (True, 0, 0)
        assert await admit("a") == (False, 60, 0)  # counted before any check: refused
        assert await admit("b") == (True, 0, 0)
        # A fourth attempt overall: everyone is slowed down, nobody else is locked out.
        assert await admit("c") == (True, 0, settings.login_slowdown_seconds)
        await throttle.succeeded("a")
        assert (await admit("a"))[0]
        now[0] = 61
        assert await admit("c") == (True, 0, 0)

    # In a thread of its own: the browser tests of this package keep Playwright's event loop
    # running in the main thread.
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(scenario())
        except BaseException as exc:  # re-raised below, in the test's thread
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    if failure:
        raise failure[0]


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


def test_login_page_flood_does_not_sign_out_the_admin(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from bridge.web.admin import sessions

    monkeypatch.setattr(sessions, "MAX_SESSIONS", 5)
    store = SessionStore(_admin_db(tmp_path), secure=False)
    admin = store._insert("admin")
    for _ in range(20):
        store._insert("")
    found = store.find(admin.id)
    assert found is not None and found.user == "admin"
