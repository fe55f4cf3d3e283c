"""Credentials: the authorized-user file (0600, Google's format), service accounts with
domain-wide delegation, and refresh failures in plain words."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from google.auth.exceptions import RefreshError

from bridge import config
from bridge.google.credentials import (
    AuthorizedUser,
    credentials_path,
    load_authorized_user,
    load_credentials,
    save_authorized_user,
    translate_refresh_error,
)
from bridge.google.errors import NotAuthorized, Transient


def _settings(tmp_path: Path, extra: str = "") -> config.Settings:
    path = tmp_path / "bridge.ini"
    path.write_text(
        "[bridge]\ntimezone = UTC\n[google]\nenabled = yes\n"
        "token_uri = http://127.0.0.1:9/token\n" + extra
    )
    return config.load(path)


def test_authorized_user_round_trip_is_private(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    path = credentials_path(settings)
    save_authorized_user(path, AuthorizedUser("cid", "secret", "refresh", "http://x/token"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["type"] == "authorized_user"
    user = load_authorized_user(path)
    assert (user.client_id, user.refresh_token) == ("cid", "refresh")
    creds = load_credentials(settings)
    # The configured token endpoint wins (emulators, tests).
    assert creds.token_uri == "http://127.0.0.1:9/token"  # type: ignore[attr-defined]


def test_missing_sign_in_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(NotAuthorized, match="auth google"):
        load_credentials(_settings(tmp_path))


def test_service_account_with_delegation(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "sa.json").write_text(
        json.dumps(
            {
                "type": "service_account",
                "client_email": "mirror@shop.iam.gserviceaccount.com",
                "private_key": pem,
                "private_key_id": "k1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    settings = _settings(tmp_path, "service_account = sa.json\ndelegated_user = office@shop.com\n")
    creds = load_credentials(settings)
    assert creds._subject == "office@shop.com"  # type: ignore[attr-defined]
    assert creds._token_uri == "http://127.0.0.1:9/token"  # type: ignore[attr-defined]


def test_refresh_errors_in_plain_words() -> None:
    revoked = RefreshError(
        "invalid_grant: Token has been expired or revoked.",
        {"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
    )
    err = translate_refresh_error(revoked)
    assert isinstance(err, NotAuthorized)
    assert "7 days" in str(err) and "sign in again" in str(err)
    assert "ya29" not in str(err)
    flaky = RefreshError("server error", {"error": "internal_failure"}, retryable=True)
    assert isinstance(translate_refresh_error(flaky), Transient)
