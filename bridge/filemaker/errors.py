"""The FileMaker side's exception tree: every way a Data API call can fail, typed by what the
poller must do (wait and retry, tell the admin to fix an account, a layout or a field).

``bridge.filemaker.client`` is the one place aiohttp errors and Claris' error envelopes become
these. Messages are plain words for the admin page, ``/readyz`` and the CLI; they name the
source's layout or field, never a password or a session token.
"""

from __future__ import annotations

from ..errors import BridgeError


class FileMakerError(BridgeError):
    """A Data API call failed. ``code`` is Claris' ``messages[].code`` ("" without one)."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class Unreachable(FileMakerError):
    """No answer: refused connection, DNS failure, timeout, a 5xx or an answer that is not
    Claris' JSON envelope (a proxy's error page). Retried at the next poll."""


class LoginFailed(FileMakerError):
    """212: the account or password is wrong (or the account lacks the fmrest privilege)."""


class LayoutMissing(FileMakerError):
    """105: the layout does not exist or the account's privilege set cannot see it."""


class FieldMissing(FileMakerError):
    """102: a field named in a find or sort is not on the layout."""


class FileNotOpen(FileMakerError):
    """802: the database is not hosted (closed, renamed, or a typo in ``database``)."""


class Refused(FileMakerError):
    """Any other non-zero code (1708 a bad parameter, 1704 verb not supported...)."""


class TooLarge(FileMakerError):
    """An answer over the configured size limit: the page size is too big for this layout."""
