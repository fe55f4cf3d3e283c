"""The emulator's settings: accounts, registered OAuth clients, lifetimes, quotas, limits.

Defaults are Google's documented numbers: access tokens live 3600 s, apps in the "Testing"
publishing state get refresh tokens that die after 7 days, 100 refresh tokens per account and
client, 600 requests per minute per user and 10,000 per minute per project, 1000 calls per batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

#: Client registered by default, so ``demo`` and tests work without configuration.
DEFAULT_CLIENT_ID = "emulator-client.apps.googleusercontent.com"
DEFAULT_CLIENT_SECRET = "emulator-client-secret"
DEFAULT_ACCOUNT = "demo@example.com"


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """A Google account known at start; its primary calendar's id is the email."""

    email: str
    time_zone: str = "UTC"
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class OAuthClientSpec:
    """A registered OAuth client.

    ``kind="installed"`` (Google's "Desktop app") accepts any loopback redirect URI
    (``http://127.0.0.1:<any port>/...`` or ``http://localhost:<port>/...``) as Google documents for
    installed apps; ``kind="web"`` requires an exact match with one of ``redirect_uris``.
    ``testing=True`` is a consent screen left in the "Testing" publishing status: refresh tokens
    expire after ``EmulatorSettings.refresh_token_testing_age_s`` unless only the basic
    ``openid``/``email``/``profile`` scopes were granted.
    """

    client_id: str
    client_secret: str
    kind: Literal["web", "installed"] = "installed"
    redirect_uris: tuple[str, ...] = ()
    testing: bool = False


@dataclass(frozen=True, slots=True)
class EmulatorSettings:
    """Everything the emulator needs; passed to :func:`create_app`.

    ``rate_limit_status`` picks how an exhausted per-minute quota answers: 403 or 429 with reason
    ``rateLimitExceeded`` (Google's errors page says both occur and must be treated alike).
    ``tombstone_retention_s`` (``None`` = forever) is how long a deleted event stays visible as
    ``cancelled``; purging one makes older sync tokens answer 410.
    """

    host: str = "127.0.0.1"
    port: int = 0
    state_path: Path | None = None
    accounts: tuple[AccountSpec, ...] = (AccountSpec(DEFAULT_ACCOUNT),)
    clients: tuple[OAuthClientSpec, ...] = (
        OAuthClientSpec(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
    )
    auto_create_accounts: bool = True
    access_token_lifetime_s: int = 3600
    auth_code_lifetime_s: int = 600
    refresh_token_testing_age_s: int = 7 * 24 * 3600
    refresh_tokens_per_client: int = 100
    user_rate_limit_per_min: int = 600
    project_rate_limit_per_min: int = 10_000
    rate_limit_status: Literal[403, 429] = 403
    batch_max_parts: int = 1000
    tombstone_retention_s: int | None = None
    recurrence_horizon_days: int = 730
    request_log_size: int = 10_000
    save_interval_s: float = 2.0
    fault_seed: int = 0

    def client(self, client_id: str) -> OAuthClientSpec | None:
        """Return the registered client with this id, if any."""
        for spec in self.clients:
            if spec.client_id == client_id:
                return spec
        return None
