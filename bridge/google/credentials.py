"""Google credentials: the authorized-user file written by ``auth google``, or a service account
with domain-wide delegation, refreshed only through the configured token endpoint.

The authorized-user file is Google's own format (``google.oauth2.credentials.Credentials
.to_json``: ``client_id``, ``client_secret``, ``refresh_token``, ``token_uri``, ``scopes``), so an
admin can also produce it with Google's tools. It is written 0600, atomically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import google.auth.credentials
import google.oauth2.credentials
import google.oauth2.service_account
from google.auth.exceptions import RefreshError

from ..config import Settings
from ..files import write_private
from .errors import NotAuthorized, Transient

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"
"""Events in calendars the bridge creates and their ACLs (``calendar.app.created`` lacks ACLs)."""
SCOPES: tuple[str, ...] = (CALENDAR_SCOPE,)

RELOGIN_HINT = "sign in again on the admin page or run 'ipoint-bridge auth google'"


@dataclass(frozen=True, slots=True)
class AuthorizedUser:
    """The contents of the authorized-user file."""

    client_id: str
    client_secret: str
    refresh_token: str
    token_uri: str
    scopes: tuple[str, ...] = SCOPES
    account: str = ""
    """The Google account that signed in, when known (shown on the admin page)."""

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "type": "authorized_user",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.refresh_token,
            "token_uri": self.token_uri,
            "scopes": list(self.scopes),
        }
        if self.account:
            data["account"] = self.account
        return json.dumps(data, indent=2) + "\n"


def credentials_path(settings: Settings) -> Path:
    return settings.data_path(settings.google.credentials)


def save_authorized_user(path: Path, user: AuthorizedUser) -> None:
    """Write the file 0600 (it holds a refresh token: whoever reads it is the shop in Google)."""
    write_private(path, user.to_json())


def load_authorized_user(path: Path) -> AuthorizedUser:
    """Read the file; ``NotAuthorized`` when it is missing or unusable.

    Raises:
        NotAuthorized: no file, unreadable, or missing a field.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise NotAuthorized(f"the bridge is not signed in to Google yet: {RELOGIN_HINT}") from exc
    except (OSError, ValueError) as exc:
        raise NotAuthorized(f"cannot read the Google sign-in file {path}: {exc}") from exc
    missing = [k for k in ("client_id", "client_secret", "refresh_token") if not data.get(k)]
    if not isinstance(data, dict) or missing:
        raise NotAuthorized(
            f"the Google sign-in file {path} lacks {', '.join(missing)}: {RELOGIN_HINT}"
        )
    scopes = data.get("scopes") or list(SCOPES)
    return AuthorizedUser(
        client_id=str(data["client_id"]),
        client_secret=str(data["client_secret"]),
        refresh_token=str(data["refresh_token"]),
        token_uri=str(data.get("token_uri") or ""),
        scopes=tuple(str(s) for s in scopes),
        account=str(data.get("account") or ""),
    )


def signature(settings: Settings) -> str:
    """Changes whenever the credentials an admin provided change (file replaced after a new
    sign-in), so a "not authorized" state can be left without a restart."""
    g = settings.google
    path = (
        settings.data_path(g.service_account) if g.service_account else credentials_path(settings)
    )
    try:
        st = os.stat(path)
    except OSError:
        return "missing"
    return f"{path}:{st.st_mtime_ns}:{st.st_size}"


def load_credentials(
    settings: Settings, scopes: Sequence[str] = SCOPES
) -> google.auth.credentials.Credentials:
    """Credentials for the configured account, refreshed through ``[google] token_uri``.

    Raises:
        NotAuthorized: nothing usable is configured.
    """
    g = settings.google
    if g.service_account:
        path = settings.data_path(g.service_account)
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise NotAuthorized(f"cannot read the service-account key {path}: {exc}") from exc
        # The configured token endpoint wins over the key's, so tests and emulators work.
        info["token_uri"] = g.token_uri
        try:
            sa: google.oauth2.service_account.Credentials = (
                google.oauth2.service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                    info, scopes=list(scopes)
                )
            )
        except (ValueError, KeyError) as exc:
            raise NotAuthorized(f"the service-account key {path} is not usable: {exc}") from exc
        if g.delegated_user:
            sa = sa.with_subject(g.delegated_user)  # type: ignore[no-untyped-call]
        return sa
    user = load_authorized_user(credentials_path(settings))
    return google.oauth2.credentials.Credentials(  # type: ignore[no-untyped-call]
        token=None,
        refresh_token=user.refresh_token,
        token_uri=g.token_uri,
        client_id=user.client_id or g.client_id,
        client_secret=user.client_secret or g.client_secret,
        scopes=list(user.scopes),
    )


def translate_refresh_error(exc: RefreshError) -> NotAuthorized | Transient:
    """A failed token refresh in plain words.

    ``invalid_grant`` is Google's answer for a revoked or expired refresh token (RFC 6749 5.2);
    refresh tokens of apps left in the "Testing" publishing state expire after 7 days.
    """
    text = " ".join(str(a) for a in exc.args if isinstance(a, str))
    data = next((a for a in exc.args if isinstance(a, dict)), {})
    code = str(data.get("error", "")) if isinstance(data, dict) else ""
    if code == "invalid_grant" or "invalid_grant" in text:
        return NotAuthorized(
            "Google no longer accepts the saved sign-in (invalid_grant): it was revoked, the "
            "password changed, or it expired (an OAuth app left in Google's 'Testing' state "
            f"loses its sign-in after 7 days); {RELOGIN_HINT}",
            status=400,
            reason="invalid_grant",
        )
    if code in ("invalid_client", "unauthorized_client"):
        return NotAuthorized(
            f"Google rejected the OAuth client ({code}): check [google] client_id and "
            f"client_secret, then {RELOGIN_HINT}",
            status=401,
            reason=code,
        )
    if getattr(exc, "retryable", False) or not code:
        return Transient("Google's token endpoint did not answer usefully; will retry")
    return NotAuthorized(
        f"Google refused to refresh the sign-in ({code}); {RELOGIN_HINT}", reason=code
    )
