"""``ipoint-bridge auth google``: sign the bridge in to Google from a terminal.

- default: a loopback redirect (Google's flow for installed apps). A one-shot web server listens
  on 127.0.0.1 (``--port``, default any free port); the command prints the address to open in a
  browser on the same computer and finishes when Google sends the browser back.
- ``--manual``: for a computer without a browser. The command prints the address; open it in any
  browser, press Allow, and paste the address the browser ends on (it may show an error page)
  back into the terminal. The redirect is the admin page's ``<base_url>/admin/google/callback``
  unless ``--redirect-uri`` names another one registered with the OAuth client.
- ``--status``: say whether the stored sign-in still works, and if not why.

Both flows use state and PKCE (S256), ask for offline access with a fresh consent, exchange the
code at ``[google] token_uri`` and write the authorized-user file 0600 at ``[google]
credentials``. A Workspace shop can skip all this with ``[google] service_account`` and
``delegated_user`` (see docs/admin.md). Tokens are never printed or logged.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from typing import TYPE_CHECKING, Any, TextIO

from ..config import Settings
from .core import load_settings

if TYPE_CHECKING:
    # At run time each function imports what it uses: aiohttp and the OAuth flow would
    # otherwise load at every start of every command (``import`` above all).
    import aiohttp
    from aiohttp import web

    from ..google.oauth_flow import AuthRequest, Redirect

CALLBACK_PATH = "/admin/google/callback"
_PAGE = (
    "<!doctype html><meta charset='utf-8'><title>ipoint-bridge</title>"
    "<body style='font-family:sans-serif;max-width:36em;margin:3em auto'><h1>{title}</h1>"
    "<p>{text}</p></body>"
)


def _say(text: str, out: TextIO | None = None) -> None:
    print(text, file=out or sys.stdout, flush=True)


class _Receiver:
    """The loopback server's one route: takes the redirect that carries our state."""

    def __init__(self) -> None:
        self.request: AuthRequest | None = None
        self.answer: asyncio.Future[Redirect] = asyncio.get_running_loop().create_future()

    async def handle(self, http: web.Request) -> web.Response:
        from aiohttp import web

        from ..google.oauth_flow import Redirect

        q = http.rel_url.query
        got = Redirect(q.get("state", ""), q.get("code", ""), q.get("error", ""))
        expected = self.request.state if self.request else None
        if got.state != expected or not (got.code or got.error):
            # Someone else's request (or a forged one): refuse it and keep waiting.
            text = _PAGE.format(title="Refused", text="This is not the sign-in we started.")
            return web.Response(status=400, content_type="text/html", text=text)
        if not self.answer.done():
            self.answer.set_result(got)
        text = "You can close this window and return to the terminal."
        return web.Response(
            content_type="text/html", text=_PAGE.format(title="Signed in", text=text)
        )


async def _finish(
    http: aiohttp.ClientSession, settings: Settings, request: AuthRequest, got: Redirect
) -> int:
    from ..google import oauth_flow
    from ..google.oauth_flow import OAuthError

    if got.error:
        _say("error: " + oauth_flow.describe_redirect_error(got.error), sys.stderr)
        return 1
    if got.state != request.state:
        _say(
            "error: that address belongs to another sign-in (its state does not match); "
            "nothing was saved. Start again.",
            sys.stderr,
        )
        return 1
    try:
        grant = await oauth_flow.exchange(http, settings.google, request, got.code)
    except OAuthError as exc:
        _say(f"error: {exc.message}", sys.stderr)
        return 1
    path = oauth_flow.save(settings, grant)
    _say(
        f"Signed in to Google as {grant.email or 'your account'}. Saved to {path} "
        "(readable by this user only)."
    )
    return 0


async def _loopback(settings: Settings, args: argparse.Namespace) -> int:
    import aiohttp
    from aiohttp import web

    from ..google import oauth_flow

    receiver = _Receiver()
    app = web.Application()
    app.router.add_get("/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, "127.0.0.1", args.port).start()
        except OSError as exc:
            _say(f"error: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}", sys.stderr)
            return 1
        port = runner.addresses[0][1]
        request = oauth_flow.start(
            settings.google, f"http://127.0.0.1:{port}/", login_hint=args.login_hint
        )
        receiver.request = request
        _say(
            "Open this address in a browser on this computer, sign in with the shop's Google "
            "account and press Allow:"
        )
        _say(request.url)
        _say(f"Waiting for Google to send the browser back to http://127.0.0.1:{port}/ ...")
        try:
            got = await asyncio.wait_for(receiver.answer, args.timeout)
        except TimeoutError:
            _say(
                f"error: no answer from the browser within {args.timeout:.0f} seconds; "
                "nothing was saved. On a computer without a browser use --manual.",
                sys.stderr,
            )
            return 1
        async with aiohttp.ClientSession() as http:
            return await _finish(http, settings, request, got)
    finally:
        await runner.cleanup()


async def _manual(settings: Settings, args: argparse.Namespace) -> int:
    import aiohttp

    from ..google import oauth_flow
    from ..google.oauth_flow import OAuthError

    redirect_uri = args.redirect_uri or settings.bridge.base_url + CALLBACK_PATH
    request = oauth_flow.start(settings.google, redirect_uri, login_hint=args.login_hint)
    _say(
        "1. Open this address in any browser (on any computer) and sign in with the shop's "
        "Google account:"
    )
    _say(request.url)
    _say(
        "2. Press Allow. The browser then goes to an address starting with "
        f"{redirect_uri} (it may show an error page; that is fine)."
    )
    _say("3. Copy that whole address from the address bar, paste it here and press Enter:")
    line = await asyncio.to_thread(sys.stdin.readline)
    if not line.strip():
        _say("error: nothing was pasted; nothing was saved.", sys.stderr)
        return 1
    try:
        got = oauth_flow.parse_redirect(line)
    except OAuthError as exc:
        _say(f"error: {exc.message}", sys.stderr)
        return 1
    async with aiohttp.ClientSession() as http:
        return await _finish(http, settings, request, got)


async def _status(settings: Settings) -> int:
    import aiohttp

    from ..web.admin.authstate import check

    async with aiohttp.ClientSession() as http:
        state = await check(http, settings)
    who = f" as {state.email}" if state.email else ""
    _say(f"{state.headline}{who}." + (f" {state.detail}" if state.detail else ""))
    return 0 if state.ok else 1


def cmd_auth_google(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    if args.status:
        return asyncio.run(_status(settings))
    google = settings.google
    if google.service_account:
        _say(
            f"This bridge uses the service account in {google.service_account} "
            "([google] service_account): no sign-in is needed. Remove that option to sign in "
            "with a Google account instead."
        )
        return 0
    if not google.client_id or not google.client_secret:
        _say(
            "error: set [google] client_id and client_secret (an OAuth client of the shop's "
            "Google Cloud project) first.",
            sys.stderr,
        )
        return 2
    runner = _manual if args.manual else _loopback
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(runner(settings, args))
    return 130


def register(sub: Any) -> None:
    p = sub.add_parser("auth", help="sign the bridge in to Google")
    auth_sub = p.add_subparsers(dest="auth_target", metavar="TARGET")
    g = auth_sub.add_parser(
        "google",
        help="sign in with Google (loopback redirect; --manual to paste the address)",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g.add_argument(
        "--manual",
        action="store_true",
        help="print the address, then read the address the browser ended on",
    )
    g.add_argument(
        "--port",
        type=int,
        default=0,
        help="loopback port (default: any free one; a 'Web application' OAuth client "
        "needs a fixed, registered one)",
    )
    g.add_argument(
        "--redirect-uri",
        default="",
        help="with --manual: redirect URI registered with the OAuth client (default: "
        "<base_url>/admin/google/callback)",
    )
    g.add_argument("--login-hint", default="", help="Google account to preselect")
    g.add_argument(
        "--timeout", type=float, default=600.0, help="seconds to wait for the browser (default 600)"
    )
    g.add_argument(
        "--status", action="store_true", help="only say whether the stored sign-in still works"
    )
    g.set_defaults(handler=cmd_auth_google)
