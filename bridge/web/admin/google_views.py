"""Step 1 and 2 on the admin page: signing the bridge in to Google and out again.

``/admin/google/start`` makes a sign-in (state + PKCE) bound to the admin's session and sends the
browser to Google's consent page, or, for "Having trouble?", shows the link to open in any
browser. Google sends the browser back to ``/admin/google/callback``; when that cannot happen
(the browser cannot reach the bridge), the admin pastes the address the browser ended on into
``/admin/google/paste``. Both finish the same way: the state must be pending, unused and belong to
this session; the code is exchanged at the configured token URI and the authorized-user file is
written 0600. Nothing here logs or shows a token or a code.
"""

from __future__ import annotations

import logging

from aiohttp import web

from ...google import oauth_flow
from ...google.oauth_flow import OAuthError, Redirect
from .flows import REFUSALS
from .render import page, see_other
from .sessions import Session
from .state import Admin, admin_of, require_session, session_of

logger = logging.getLogger(__name__)


def _refused(admin: Admin, reason: str, *, status: int = 400) -> web.Response:
    return page(
        admin.env,
        "message.html",
        {"title": "Sign-in refused", "message": reason, "link": "/admin"},
        status=status,
    )


async def start(request: web.Request) -> web.StreamResponse:
    admin = admin_of(request)
    session = require_session(request)
    google = admin.settings.google
    if not google.client_id or not google.client_secret:
        session.flash(
            "error",
            "Set [google] client_id and client_secret in the configuration before signing in.",
        )
        return see_other("/admin#step1")
    form = await request.post()
    auth = oauth_flow.start(google, admin.redirect_uri)
    await admin.flows.add(auth, session.id)
    logger.info("Google sign-in started from the admin page")
    if form.get("mode") == "manual":
        session.manual_url = auth.url
        return see_other("/admin#trouble")
    return see_other(auth.url)


async def _finish(
    request: web.Request, admin: Admin, session: Session, answer: Redirect
) -> web.StreamResponse:
    verdict, flow = await admin.flows.take(answer.state, session.id)
    if flow is None:
        logger.warning("Google sign-in answer refused: %s", verdict)
        return _refused(admin, REFUSALS[verdict])
    session.manual_url = ""
    if answer.error:
        session.flash("error", oauth_flow.describe_redirect_error(answer.error))
        return see_other("/admin#step1")
    try:
        grant = await oauth_flow.exchange(
            admin.access.http, admin.settings.google, flow.request, answer.code
        )
    except OAuthError as exc:
        session.flash("error", exc.message)
        return see_other("/admin#step1")
    oauth_flow.save(admin.settings, grant)
    admin.access.cache.invalidate()
    who = grant.email or "your Google account"
    session.flash("ok", f"Signed in to Google as {who}.")
    return see_other("/admin#step2")


async def callback(request: web.Request) -> web.StreamResponse:
    admin = admin_of(request)
    query = request.rel_url.query
    answer = Redirect(
        state=query.get("state", ""), code=query.get("code", ""), error=query.get("error", "")
    )
    session = session_of(request)
    if session is None or not session.authenticated:
        # Another browser (the "Having trouble?" path) or a forged request: refuse, but leave a
        # pending state usable by pasting this address where the sign-in began.
        pending = await admin.flows.pending(answer.state)
        logger.warning(
            "Google sign-in answer without an admin session (pending state: %s)", pending
        )
        return _refused(admin, REFUSALS["wrong_session" if pending else "unknown"])
    return await _finish(request, admin, session, answer)


async def paste(request: web.Request) -> web.StreamResponse:
    admin = admin_of(request)
    session = require_session(request)
    form = await request.post()
    try:
        answer = oauth_flow.parse_redirect(str(form.get("address", "")))
    except OAuthError as exc:
        session.flash("error", exc.message)
        return see_other("/admin#trouble")
    return await _finish(request, admin, session, answer)


async def check_again(request: web.Request) -> web.StreamResponse:
    admin = admin_of(request)
    require_session(request)
    await admin.access.state(force=True)
    return see_other("/admin#step2")


async def sign_out(request: web.Request) -> web.StreamResponse:
    admin = admin_of(request)
    session = require_session(request)
    try:
        confirmed = await oauth_flow.revoke(admin.access.http, admin.settings)
    except OAuthError as exc:
        session.flash(
            "error", f"The saved sign-in was removed, but Google could not be told: {exc.message}"
        )
    else:
        session.flash(
            "ok",
            "Signed out of Google."
            if confirmed
            else "The saved sign-in was removed (Google did not confirm the revocation).",
        )
    admin.access.cache.invalidate()
    return see_other("/admin#step1")
