"""The Google side's exception tree: every failure a Google call can end in, typed by what the
caller must do about it (retry later, pause, sign in again, treat as done, give up).

``bridge.google.client.translate`` is the one place foreign exceptions become these. Messages are
plain words for the admin page and the CLI; they never contain a token.
"""

from __future__ import annotations

from ..errors import BridgeError


class GoogleError(BridgeError):
    """A Google call failed. ``status`` is the HTTP status (0 without one), ``reason`` Google's
    reason code (``rateLimitExceeded``, ``duplicate``...) when it gave one."""

    retryable = False

    def __init__(self, message: str, *, status: int = 0, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class NotAuthorized(GoogleError):
    """The saved sign-in no longer works (revoked, expired, missing): an admin must sign in
    again. Writes stop; the queue is kept."""


class Forbidden(GoogleError):
    """403 other than a rate or quota limit, e.g. a missing scope: not retried."""


class RateLimited(GoogleError):
    """403 ``rateLimitExceeded``/``userRateLimitExceeded`` or 429: back off and retry.

    Google's "Handle API errors" page: both status codes occur for the same condition and both
    call for truncated exponential backoff.
    """

    retryable = True

    def __init__(
        self, message: str, *, status: int = 0, reason: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status, reason=reason)
        self.retry_after = retry_after


class QuotaExceeded(GoogleError):
    """403 ``quotaExceeded`` ("Calendar usage limits exceeded"): the account is read-only for
    hours. Retrying makes it worse, so writes to the account pause."""


class Transient(GoogleError):
    """5xx, a timeout, a dropped connection or a garbled answer: retry with backoff."""

    retryable = True


class NotFound(GoogleError):
    """404: the calendar or event does not exist."""


class Duplicate(GoogleError):
    """409 ``duplicate``: the event id is taken (perhaps by a deleted event, whose id stays
    reserved): update it instead."""


class Gone(GoogleError):
    """410: a deleted resource, or a sync token Google no longer honours (full sync needed)."""


class PreconditionFailed(GoogleError):
    """412: an If-Match etag no longer matches."""


class BadRequest(GoogleError):
    """400 or another permanent refusal of this one request; not retried."""
