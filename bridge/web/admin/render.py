"""Pages of the admin area: Jinja2 templates (autoescaped) and the headers every page carries.

The headers keep the pages out of frames and caches, forbid inline script (only our own
``admin.js``), and send no Referer, so the address Google redirects to (with its one-time code)
never leaks to another site.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from aiohttp import web

from ...config import Settings

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def content_security_policy(settings: Settings) -> str:
    auth = urlsplit(settings.google.auth_uri)
    # A form that redirects on (Sign in with Google -> consent page) is checked against
    # form-action by browsers, so Google's consent origin must be listed.
    form_action = f"'self' {auth.scheme}://{auth.netloc}"
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            f"form-action {form_action}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        )
    )


def secure_headers(response: web.StreamResponse, settings: Settings) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(settings))
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cache-Control", "no-store")
    if settings.bridge.base_url.startswith("https://"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")


def page(
    env: jinja2.Environment, name: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    text = env.get_template(name).render(**context)
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def see_other(location: str) -> web.Response:
    """303: after a POST the browser loads ``location`` with GET (no resubmission on reload)."""
    return web.Response(status=303, headers={"Location": location})
