"""The mirror's Google session: the client, built on demand from the stored sign-in and
rebuilt when the credentials change; the account's state (signed in or not, writes paused by
quota) as the status tables record it.

Everything here runs on the mirror's worker thread (``Mirror.run``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import google.auth.credentials

from ..config import Settings
from ..google.client import CallCounter, GoogleClient, Tuning
from ..google.credentials import load_credentials, signature
from ..google.errors import NotAuthorized
from .status import StatusDB

logger = logging.getLogger(__name__)

CredentialsLoader = Callable[[Settings], google.auth.credentials.Credentials]


class GoogleSession:
    """One account's client and its state; ``client()`` raises ``NotAuthorized`` when there is
    no usable sign-in."""

    def __init__(
        self,
        settings: Settings,
        status: StatusDB,
        *,
        tuning: Tuning,
        counter: CallCounter,
        credentials: CredentialsLoader = load_credentials,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.status = status
        self.tuning = tuning
        self.counter = counter
        self._credentials = credentials
        self._clock = clock
        self._client: GoogleClient | None = None
        self._client_sig: str | None = None

    @property
    def connected(self) -> bool:
        """A client is built (the last sign-in worked)."""
        return self._client is not None

    def client(self) -> GoogleClient:
        """The client, (re)built when the credentials changed.

        Raises:
            NotAuthorized: no usable sign-in (the state is recorded for the admin page).
        """
        account = self.status.account()
        sig = signature(self.settings)
        if account.auth_state == "not_authorized" and account.signature == sig:
            raise NotAuthorized(account.reason or "not signed in to Google")
        if self._client is None or self._client_sig != sig:
            self.close()
            try:
                creds = self._credentials(self.settings)
            except NotAuthorized as exc:
                self.not_authorized(exc)
                raise
            g = self.settings.google
            self._client = GoogleClient(
                g.api_endpoint,
                creds,
                rate_per_minute=g.rate_per_minute,
                batch_size=g.batch_size,
                tuning=self.tuning,
                counter=self.counter,
            )
            self._client_sig = sig
        if account.auth_state != "ok":
            self.status.set_account(replace(account, auth_state="ok", reason=None))
        return self._client

    def not_authorized(self, exc: NotAuthorized) -> None:
        """Stop writing until the sign-in changes; keep the queue."""
        account = self.status.account()
        self.status.set_account(
            replace(
                account,
                auth_state="not_authorized",
                reason=str(exc),
                signature=signature(self.settings),
            )
        )
        # Once per change of state: the loop polls every second while nobody is signed in.
        if account.auth_state != "not_authorized" or account.reason != str(exc):
            logger.warning("Google writes stopped: %s", exc)
        self.close()

    def pause(self) -> None:
        """Google said the quota is exceeded: no writes for ``[google] quota_pause_minutes``."""
        pause = self.settings.google.quota_pause_minutes * 60
        account = self.status.account()
        self.status.set_account(replace(account, paused_until=self._clock() + pause))
        logger.warning("Google quota exceeded: writes paused for %d minutes", pause // 60)

    def blocked(self) -> str | None:
        """Why writes are paused now (quota), in plain words; None when they are not."""
        account = self.status.account()
        if account.paused_until > self._clock():
            until = datetime.fromtimestamp(
                account.paused_until, ZoneInfo(self.settings.bridge.timezone)
            )
            return (
                "Google says the account's Calendar usage limits are exceeded; writes are "
                f"paused until {until:%Y-%m-%d %H:%M} and the changes stay queued"
            )
        return None

    def close(self) -> None:
        """Drop the client (a new one is built on the next call)."""
        if self._client is not None:
            self._client.close()
            self._client = None
