"""Signing in to and out of the admin page with the login from ``[admin]``.

The password is checked with bcrypt in a worker thread (about 0.3 s, off the event loop), and
always checked, even for a wrong user name, so timing does not tell which one was wrong. The
throttle (``throttle.py``) admits each attempt before the check.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math

import bcrypt
from aiohttp import web

from ..forwarded import client_address, is_https
from .render import page, see_other
from .state import admin_of, attach_session, session_of
from .throttle import Admission

logger = logging.getLogger(__name__)
# A valid hash of a random password: wrong user names cost the same bcrypt check.
_DUMMY_HASH = bcrypt.hashpw(b"not the password", bcrypt.gensalt(rounds=12))


def _password_ok(password: str, stored_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), stored_hash.encode())
    except ValueError:
        logger.error(
            "[admin] password_hash is not a bcrypt hash; use 'ipoint-bridge hash-password'"
        )
        return False


async def _login_page(
    request: web.Request, message: str = "", status: int = 200, username: str = ""
) -> web.Response:
    admin = admin_of(request)
    session, new = await admin.sessions.get_or_create(request)
    response = page(
        admin.env,
        "login.html",
        {
            "title": "Sign in",
            "csrf": session.csrf,
            "message": message,
            "username": username,
        },
        status=status,
    )
    if new:
        admin.sessions.set_cookie(response, session, https=is_https(request))
    return response


async def login_form(request: web.Request) -> web.StreamResponse:
    session = session_of(request)
    if session is not None and session.authenticated:
        return see_other("/admin")
    return await _login_page(request)


def _refusal(admission: Admission) -> str:
    if admission.busy:
        return "A sign-in from your address is being checked. Wait for its answer."
    minutes = max(1, math.ceil(admission.wait / 60))
    return f"Too many wrong passwords. Try again in {minutes} minute{'s' if minutes != 1 else ''}."


async def login_submit(request: web.Request) -> web.StreamResponse:
    admin = admin_of(request)
    session = session_of(request)
    assert session is not None  # the guard refused POSTs without a session
    client = client_address(request)
    form = await request.post()
    username = str(form.get("username", ""))
    password = str(form.get("password", ""))
    settings = admin.settings.admin
    async with admin.throttle.attempt(client) as admission:
        if not admission.allowed:
            logger.warning("admin login from %s refused: too many attempts", client)
            return await _login_page(request, _refusal(admission), status=429)
        name_ok = hmac.compare_digest(username.encode(), settings.username.encode())
        stored = settings.password_hash if name_ok else _DUMMY_HASH.decode()
        ok = await asyncio.to_thread(_password_ok, password, stored)
    if not (ok and name_ok):
        logger.warning("admin login failed from %s", client)
        return await _login_page(request, "Wrong user name or password.", 401, username[:64])
    await admin.throttle.succeeded(client)
    fresh = await admin.sessions.login(session, username)
    attach_session(request, fresh)
    logger.info("admin %s signed in from %s", username, client)
    response = see_other("/admin")
    admin.sessions.set_cookie(response, fresh, https=is_https(request))
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    admin = admin_of(request)
    session = session_of(request)
    if session is not None:
        await admin.flows.drop_session(session.id)
        await admin.sessions.drop(session)
    response = see_other("/admin/login")
    admin.sessions.clear_cookie(response)
    return response
