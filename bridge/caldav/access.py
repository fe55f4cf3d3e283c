"""Who may read an iPoint calendar, decided by Radicale's own auth and rights modules.

The WSGI front answers some requests without ``radicale.Application``; it asks the same
htpasswd check (with its login cache) and the same generated rights file, loaded from the same
configuration through Radicale's plugin loaders. The gate only ever says yes: any doubt (no or
malformed credentials, a failed login, no read right) returns None, and the front hands the
request to Radicale, which gives the 401 or 403 with its brute-force delay and log line.

Radicale's ``from_file`` rights read the rights file once, at start (the bridge writes it then),
so a decision per user and calendar is remembered for the life of the server.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import time
from typing import Any

from radicale import auth as radicale_auth
from radicale import config as radicale_config
from radicale import httputils, pathutils
from radicale import rights as radicale_rights

from . import layout

_REMEMBERED = 10_000


class Gate:
    def __init__(self, configuration: radicale_config.Configuration) -> None:
        self._configuration = configuration
        self._auth = radicale_auth.load(configuration)
        self._rights = radicale_rights.load(configuration)
        self._decisions: dict[tuple[str, str], bool] = {}
        self._salt = secrets.token_bytes(16)
        self._known: dict[bytes, float] = {}
        self._known_for = float(configuration.get("auth", "cache_successful_logins_expiry"))

    def user(self, environ: dict[str, Any]) -> str | None:
        """The user a request's Basic credentials log in as, None unless they succeed."""
        header = str(environ.get("HTTP_AUTHORIZATION", ""))
        if not header.startswith("Basic"):
            return None
        try:
            raw = base64.b64decode(header[len("Basic") :].strip().encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            return None
        login, sep, password = httputils.decode_request(
            self._configuration, environ, raw
        ).partition(":")
        if not sep or not login:
            return None
        context = radicale_auth.AuthContext()  # type: ignore[no-untyped-call]
        context.remote_addr = str(environ.get("REMOTE_ADDR", ""))
        user, _, _ = self._auth.login(login, password, context)
        if not user or not pathutils.is_safe_path_component(user):
            return None
        if len(self._known) >= _REMEMBERED:
            self._known.clear()
        self._known[self._digest(header)] = time.monotonic() + self._known_for
        return str(user)

    def knows(self, header: str) -> bool:
        """Whether an Authorization header logged in lately (within Radicale's login cache
        time): such a request costs no bcrypt check, so the server need not queue it with
        unknown credentials. Only a salted digest of the header is kept."""
        expiry = self._known.get(self._digest(header))
        return expiry is not None and expiry > time.monotonic()

    def _digest(self, header: str) -> bytes:
        data = header.strip().encode("latin-1", "replace")
        return hashlib.sha256(self._salt + data).digest()

    def may_read(self, user: str, where: layout.CalendarPath) -> bool:
        """Radicale's check for reading a calendar collection: ``r`` on its own path."""
        key = (user, where.url_path)
        decision = self._decisions.get(key)
        if decision is None:
            decision = "r" in self._rights.authorization(user, set(), where.url_path)
            if len(self._decisions) >= _REMEMBERED:
                self._decisions.clear()  # logins times calendars: only a probe fills it
            self._decisions[key] = decision
        return decision
