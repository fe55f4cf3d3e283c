"""The admin area's gatekeeper: session lookup, sign-in requirement, CSRF check, headers.

Every POST under ``/admin`` must carry the session's CSRF token (form field ``csrf`` or header
``X-CSRF-Token``), the login form included. Pages other than the login page, the static files
and Google's redirect need a signed-in session.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from .render import page, secure_headers, see_other
from .state import CALLBACK_PATH, admin_of, attach_session, session_of

logger = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC = ("/admin/login", CALLBACK_PATH)
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"


def in_admin(path: str) -> bool:
    return path == "/admin" or path.startswith("/admin/")


async def csrf_ok(request: web.Request, expected: str) -> bool:
    given = request.headers.get(CSRF_HEADER, "")
    if not given and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        form = await request.post()
        value = form.get(CSRF_FIELD, "")
        given = value if isinstance(value, str) else ""
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


@web.middleware
async def admin_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not in_admin(request.path):
        return await handler(request)
    admin = admin_of(request)
    if request.path.startswith("/admin/static/"):
        static = await handler(request)
        static.headers.setdefault("Cache-Control", "no-cache")
        return static
    session = await admin.sessions.get(request)
    attach_session(request, session)
    response: web.StreamResponse
    if request.method == "POST" and (session is None or not await csrf_ok(request, session.csrf)):
        logger.warning(
            "admin: refused %s %s without a valid CSRF token", request.method, request.path
        )
        response = page(
            admin.env,
            "message.html",
            {
                "title": "Refused",
                "message": "This form has expired or did not come from the admin page, so nothing "
                "was done. Go back, reload the page and try again.",
                "link": "/admin",
            },
            status=403,
        )
    elif request.path not in PUBLIC and (session is None or not session.authenticated):
        if request.method == "GET" and not request.path.startswith("/admin/jobs/"):
            response = see_other("/admin/login")
        else:
            response = web.json_response({"error": "sign in first"}, status=401)
    else:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            secure_headers(exc, admin.settings)
            raise
        finally:
            # Flashes and the sign-in link the handler changed, for whichever instance serves
            # the next request.
            current = session_of(request)
            if current is not None:
                await admin.sessions.save(current)
    secure_headers(response, admin.settings)
    return response
