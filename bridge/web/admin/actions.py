"""Buttons with consequences: Re-Push Future Events, Reconcile now, rotate a feed address; and
the progress of the running job as JSON for the page's script."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from ...mirror.control import JobKind, mirror_control
from ..keys import STORE
from .jobs import JobBusy
from .render import see_other
from .state import admin_of, require_session

logger = logging.getLogger(__name__)
NO_MIRROR = (
    "The Google mirror is not running: set [google] enabled = yes, sign in with Google, and "
    "restart the bridge."
)


async def _start(request: web.Request, kind: JobKind) -> web.StreamResponse:
    admin = admin_of(request)
    session = require_session(request)
    form = await request.post()
    if kind == "repush" and form.get("confirm") != "yes":
        session.flash("error", "Re-Push was not confirmed, so nothing was sent.")
        return see_other("/admin#actions")
    mirror = mirror_control(request.app)
    if mirror is None:
        session.flash("error", NO_MIRROR)
        return see_other("/admin#actions")
    try:
        job = await admin.jobs.start(kind)
    except JobBusy as exc:
        session.flash("error", str(exc))
        return see_other("/admin#actions")
    return see_other(f"/admin?job={job.id}#actions")


async def repush(request: web.Request) -> web.StreamResponse:
    return await _start(request, "repush")


async def reconcile(request: web.Request) -> web.StreamResponse:
    return await _start(request, "reconcile")


async def job_status(request: web.Request) -> web.StreamResponse:
    admin = admin_of(request)
    require_session(request)
    job = await admin.jobs.get(request.match_info["job"])
    if job is None:
        return web.json_response({"error": "no such job"}, status=404)
    return web.json_response(job.as_json())


async def rotate_feed(request: web.Request) -> web.StreamResponse:
    session = require_session(request)
    login = request.match_info["login"]
    store = request.app[STORE]
    if await asyncio.to_thread(store.user, login) is None:
        return web.json_response({"error": "no such calendar"}, status=404)
    await asyncio.to_thread(store.rotate_feed_token, login)
    logger.info("feed address of %s rotated from the admin page", login)
    session.flash(
        "ok",
        f"{login}: new feed address made. The old one stopped working; everyone subscribed "
        "must subscribe again with the new address.",
    )
    return see_other(f"/admin#cal-{login}")
