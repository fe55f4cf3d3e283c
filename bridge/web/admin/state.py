"""The admin area's shared state, one per app, and per-request accessors."""

from __future__ import annotations

from dataclasses import dataclass

import jinja2
from aiohttp import web

from ...config import Settings
from .authstate import GoogleAccess
from .flows import FlowStore
from .jobs import JobBoard
from .sessions import Session, SessionStore
from .throttle import LoginThrottle

CALLBACK_PATH = "/admin/google/callback"


@dataclass(slots=True)
class Admin:
    settings: Settings
    env: jinja2.Environment
    sessions: SessionStore
    throttle: LoginThrottle
    flows: FlowStore
    jobs: JobBoard
    access: GoogleAccess

    @property
    def redirect_uri(self) -> str:
        """Where Google sends the browser back to; must be registered with the OAuth client."""
        return self.settings.bridge.base_url + CALLBACK_PATH


ADMIN: web.AppKey[Admin] = web.AppKey("admin", Admin)
_SESSION: web.RequestKey[Session] = web.RequestKey("ipoint_admin_session", Session)


def admin_of(request: web.Request) -> Admin:
    return request.app[ADMIN]


def session_of(request: web.Request) -> Session | None:
    return request.get(_SESSION)


def require_session(request: web.Request) -> Session:
    """The signed-in session (the guard has already refused requests without one)."""
    session = session_of(request)
    if session is None or not session.authenticated:
        raise web.HTTPUnauthorized(text="sign in first")
    return session


def attach_session(request: web.Request, session: Session | None) -> None:
    if session is None:
        request.pop(_SESSION, None)
    else:
        request[_SESSION] = session
