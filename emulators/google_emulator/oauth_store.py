"""OAuth 2.0 state: pending consents, one-time codes, grants, refresh and access tokens.

Rules from Google's OAuth 2.0 documentation for web server and installed apps:
- a code is single use and short-lived; its redirect URI and PKCE challenge are checked at /token;
- a refresh token comes with ``access_type=offline``, on first consent or with ``prompt=consent``;
- at most 100 refresh tokens per account and client: one more silently revokes the oldest;
- apps in "Testing" get refresh tokens that expire after 7 days unless only basic profile scopes
  (``openid``, ``email``, ``profile``) were granted;
- revoking either token of a grant revokes the whole grant (access and refresh tokens).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from google_emulator.clock import Clock
from google_emulator.model import to_json
from google_emulator.settings import EmulatorSettings, OAuthClientSpec

BASIC_SCOPES = frozenset(
    {
        "openid",
        "email",
        "profile",
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/userinfo.profile",
    }
)


@dataclass(slots=True)
class Pending:
    """An authorization request waiting for the user's Allow/Deny on the consent page."""

    id: str
    client_id: str
    redirect_uri: str
    scopes: list[str]
    state: str | None
    code_challenge: str | None
    code_challenge_method: str
    offline: bool
    prompt: str
    login_hint: str | None
    expires_at: float


@dataclass(slots=True)
class AuthCode:
    code: str
    email: str
    client_id: str
    redirect_uri: str
    scopes: list[str]
    code_challenge: str | None
    code_challenge_method: str
    issue_refresh: bool
    expires_at: float
    used: bool = False


@dataclass(slots=True)
class Grant:
    id: str
    email: str
    client_id: str
    scopes: list[str]
    created: float
    revoked: bool = False


@dataclass(slots=True)
class RefreshToken:
    token: str
    grant_id: str
    issued_at: float
    revoked: bool = False


@dataclass(slots=True)
class AccessToken:
    token: str
    grant_id: str
    email: str
    client_id: str
    scopes: list[str]
    expires_at: float
    revoked: bool = False


@dataclass(slots=True)
class OAuthStore:
    settings: EmulatorSettings
    clock: Clock
    pending: dict[str, Pending] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)

    def client(self, client_id: str) -> OAuthClientSpec | None:
        return self.settings.client(client_id)

    def grant_for(self, email: str, client_id: str) -> Grant | None:
        for grant in self.grants.values():
            if grant.email == email and grant.client_id == client_id and not grant.revoked:
                return grant
        return None

    def upsert_grant(self, email: str, client_id: str, scopes: list[str]) -> Grant:
        grant = self.grant_for(email, client_id)
        if grant is None:
            grant = Grant(secrets.token_hex(8), email, client_id, [], self.clock.now())
            self.grants[grant.id] = grant
        grant.scopes = sorted(set(grant.scopes) | set(scopes))
        return grant

    def issue_access(self, grant: Grant, scopes: list[str]) -> AccessToken:
        token = AccessToken(
            token="ya29." + secrets.token_urlsafe(32),
            grant_id=grant.id,
            email=grant.email,
            client_id=grant.client_id,
            scopes=sorted(scopes),
            expires_at=self.clock.now() + self.settings.access_token_lifetime_s,
        )
        self.access_tokens[token.token] = token
        return token

    def issue_refresh(self, grant: Grant) -> RefreshToken:
        live = sorted(
            (
                rt
                for rt in self.refresh_tokens.values()
                if not rt.revoked
                and self._grant_of(rt) is not None
                and self.grants[rt.grant_id].email == grant.email
                and self.grants[rt.grant_id].client_id == grant.client_id
            ),
            key=lambda rt: rt.issued_at,
        )
        # Google: past the per-client limit the oldest refresh token stops working, silently.
        while len(live) >= self.settings.refresh_tokens_per_client:
            live.pop(0).revoked = True
        token = RefreshToken("1//" + secrets.token_urlsafe(40), grant.id, self.clock.now())
        self.refresh_tokens[token.token] = token
        return token

    def _grant_of(self, rt: RefreshToken) -> Grant | None:
        grant = self.grants.get(rt.grant_id)
        return grant if grant is not None and not grant.revoked else None

    def refresh_valid(self, rt: RefreshToken) -> Grant | None:
        """The grant behind a usable refresh token, else ``None`` (revoked or expired)."""
        grant = self._grant_of(rt)
        if rt.revoked or grant is None:
            return None
        client = self.client(grant.client_id)
        testing = client is not None and client.testing and not set(grant.scopes) <= BASIC_SCOPES
        age = self.clock.now() - rt.issued_at
        if testing and age >= self.settings.refresh_token_testing_age_s:
            return None
        return grant

    def access_valid(self, token: str) -> AccessToken | None:
        at = self.access_tokens.get(token)
        if at is None or at.revoked or at.expires_at <= self.clock.now():
            return None
        grant = self.grants.get(at.grant_id)
        if grant is None or grant.revoked:
            return None
        return at

    def revoke_grant(self, grant_id: str) -> None:
        grant = self.grants.get(grant_id)
        if grant is not None:
            grant.revoked = True
        for rt in self.refresh_tokens.values():
            if rt.grant_id == grant_id:
                rt.revoked = True
        for at in self.access_tokens.values():
            if at.grant_id == grant_id:
                at.revoked = True

    def revoke_refresh_tokens(self, email: str | None) -> int:
        """Control API: refresh tokens stop working (as after a user revokes access)."""
        count = 0
        for rt in self.refresh_tokens.values():
            grant = self.grants.get(rt.grant_id)
            if not rt.revoked and grant is not None and email in (None, grant.email):
                rt.revoked = True
                count += 1
        return count

    def expire_access_tokens(self, email: str | None) -> int:
        now = self.clock.now()
        count = 0
        for at in self.access_tokens.values():
            if at.expires_at > now and email in (None, at.email):
                at.expires_at = now
                count += 1
        return count

    def prune(self) -> None:
        """Drop expired codes, consents and access tokens so long runs stay small."""
        now = self.clock.now()
        self.codes = {k: v for k, v in self.codes.items() if v.expires_at > now and not v.used}
        self.pending = {k: v for k, v in self.pending.items() if v.expires_at > now}
        self.access_tokens = {
            k: v for k, v in self.access_tokens.items() if v.expires_at > now - 3600
        }

    def dump(self) -> dict[str, Any]:
        return {
            "grants": [to_json(g) for g in self.grants.values()],
            "refresh_tokens": [to_json(t) for t in self.refresh_tokens.values()],
            "access_tokens": [to_json(t) for t in self.access_tokens.values()],
        }

    def load(self, data: dict[str, Any]) -> None:
        self.grants = {g["id"]: Grant(**g) for g in data.get("grants", [])}
        self.refresh_tokens = {
            t["token"]: RefreshToken(**t) for t in data.get("refresh_tokens", [])
        }
        self.access_tokens = {t["token"]: AccessToken(**t) for t in data.get("access_tokens", [])}
