"""The admin page: iPoint's "Google Integration Screen" as a web page served by the bridge.

Modules: ``sessions`` (cookie sessions), ``throttle`` (login pacing), ``guard`` (sign-in, CSRF,
headers), ``login``, ``google_views`` (steps 1 and 2), ``flows`` (sign-ins in progress),
``authstate`` (is the bridge authorized, and why not), ``calendars`` (step 3), ``actions``
(Re-Push, Reconcile, feed rotation), ``logins`` (CalDAV passwords), ``jobs``, ``render``. What
the page reads from the mirror and may start there is ``bridge.mirror.control``. Sessions,
sign-ins in progress, login attempts and jobs live in the store (``schema``), so any instance
behind a load balancer serves any request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from ...mirror.control import mirror_control
from ...runtime import instance_name
from ..keys import SETTINGS, STORE
from . import actions, dashboard, google_views, login, logins, schema
from .authstate import ensure_google_access
from .flows import FlowStore
from .guard import admin_guard
from .jobs import JobBoard
from .render import STATIC, environment, page, see_other
from .sessions import SessionStore
from .state import ADMIN, Admin
from .throttle import LoginThrottle

LOGIN = r"{login:[A-Za-z0-9._@-]{1,64}}"


async def _to_admin(request: web.Request) -> web.StreamResponse:
    return see_other("/admin")


def setup_admin(app: web.Application) -> None:
    """Add ``/admin`` (or, without ``[admin] password_hash``, a page saying how to enable it)."""
    settings = app[SETTINGS]
    access = ensure_google_access(app)
    env = environment()
    if not settings.admin.password_hash:

        async def disabled(request: web.Request) -> web.StreamResponse:
            context = {
                "title": "Admin page is off",
                "message": "Set [admin] password_hash in the configuration (make one with "
                "'ipoint-bridge hash-password') and restart the bridge.",
                "link": "",
            }
            return page(env, "message.html", context, status=503)

        app.router.add_get("/admin", disabled)
        return
    app.middlewares.append(admin_guard)

    async def admin_ctx(app: web.Application) -> AsyncIterator[None]:
        # After the store's context: the admin's state lives in the store.
        db = app[STORE].db
        await asyncio.to_thread(db.migrate, schema.COMPONENT, schema.STEPS)
        admin = Admin(
            settings=settings,
            env=env,
            sessions=SessionStore(db, secure=settings.bridge.base_url.startswith("https://")),
            throttle=LoginThrottle(db, settings.admin),
            flows=FlowStore(db),
            jobs=JobBoard(db, instance_name(settings), lambda: mirror_control(app)),
            access=access,
        )
        app[ADMIN] = admin
        admin.jobs.open()
        yield
        await admin.jobs.close()

    app.cleanup_ctx.append(admin_ctx)
    r = app.router
    r.add_get("/admin", dashboard.dashboard)
    r.add_get("/admin/", _to_admin)
    r.add_get("/admin/login", login.login_form)
    r.add_post("/admin/login", login.login_submit)
    r.add_post("/admin/logout", login.logout)
    r.add_post("/admin/google/start", google_views.start)
    r.add_get("/admin/google/callback", google_views.callback)
    r.add_post("/admin/google/paste", google_views.paste)
    r.add_post("/admin/google/check", google_views.check_again)
    r.add_post("/admin/google/signout", google_views.sign_out)
    r.add_post("/admin/repush", actions.repush)
    r.add_post("/admin/reconcile", actions.reconcile)
    r.add_get("/admin/jobs/{job}", actions.job_status)
    r.add_post(f"/admin/feeds/{LOGIN}/rotate", actions.rotate_feed)
    r.add_post(f"/admin/logins/{LOGIN}/password", logins.set_caldav_password)
    r.add_static("/admin/static/", STATIC, name="admin_static")
