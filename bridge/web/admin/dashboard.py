"""``GET /admin``: the Google integration screen (steps 1 to 3, Re-Push, Reconcile)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from ...google.oauth_flow import EXPIRY_DOC_URL, PERMISSIONS_URL, PUBLISHING_DOC_URL
from ...mirror.control import mirror_control
from ...store.lease import GOOGLE_WRITER, Leases
from ..keys import STORE
from .calendars import ago, build_cards
from .filemaker_view import source_cards
from .render import page
from .state import admin_of, require_session


async def dashboard(request: web.Request) -> web.StreamResponse:
    admin = admin_of(request)
    session = require_session(request)
    settings = admin.settings
    auth = await admin.access.state()
    mirror = mirror_control(request.app)
    cards = await asyncio.to_thread(build_cards, settings, request.app[STORE], mirror)
    job_id = request.rel_url.query.get("job", "")
    job = await admin.jobs.get(job_id) if job_id else await admin.jobs.latest()
    store = request.app[STORE]
    writer = await asyncio.to_thread(
        Leases(store.db, seconds=settings.mirror.lease_seconds).current, GOOGLE_WRITER
    )
    return page(
        admin.env,
        "admin.html",
        {
            "title": "Google integration",
            "csrf": session.csrf,
            "user": session.user,
            "flashes": session.take_flashes(),
            "auth": auth,
            "google": settings.google,
            "service_account": bool(settings.google.service_account),
            "redirect_uri": admin.redirect_uri,
            "manual_url": session.manual_url,
            "cards": cards,
            "mirror_running": mirror is not None,
            "job": job,
            "writer": writer,
            "writer_since": ago(writer.acquired, writer.now) if writer else "",
            "instance": admin.jobs.instance,
            "lease_seconds": settings.mirror.lease_seconds,
            "expiry_doc_url": EXPIRY_DOC_URL,
            "publishing_doc_url": PUBLISHING_DOC_URL,
            "permissions_url": PERMISSIONS_URL,
            "filemaker_sources": source_cards(request.app),
        },
    )
