"""Set or reset a technician's (or supervisor's) CalDAV password from the admin page.

The bridge makes the password up and shows it once, on the answer to the POST itself: it is
never put in a flash, a session, a URL or a log line, and the page is ``no-store``. Reloading
the page would post again and make another one, which the browser asks about first.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from ...caldav import htpasswd
from ...caldav.radicale_config import htpasswd_path
from ..keys import STORE
from .calendars import caldav_url
from .render import page
from .state import admin_of, require_session

logger = logging.getLogger(__name__)


def _known(request: web.Request, login: str) -> bool:
    settings = admin_of(request).settings
    readers = {r for cal in settings.calendars.values() for r in cal.readers}
    return login in settings.calendars or login in readers


async def set_caldav_password(request: web.Request) -> web.StreamResponse:
    admin = admin_of(request)
    require_session(request)
    login = request.match_info["login"]
    known = _known(request, login) or (
        await asyncio.to_thread(request.app[STORE].user, login) is not None
    )
    if not known or login == admin.settings.caldav.service_user:
        return web.json_response({"error": "no such technician or supervisor"}, status=404)
    password = htpasswd.new_password()
    path = htpasswd_path(admin.settings)
    had = await asyncio.to_thread(htpasswd.has_login, path, login)
    await asyncio.to_thread(htpasswd.set_password, path, login, password)
    logger.info("CalDAV password of %s %s from the admin page", login, "reset" if had else "set")
    return page(
        admin.env,
        "password.html",
        {
            "title": f"CalDAV password for {login}",
            "login": login,
            "password": password,
            "replaced": had,
            "caldav_url": caldav_url(admin.settings, login),
            "server_url": admin.settings.caldav_url(),
        },
    )
