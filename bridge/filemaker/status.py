"""What each FileMaker source has done, for the admin page, ``/readyz`` and ``/metrics``: last
successful read, records read and written, skipped records with their reasons, the last error
in plain words and a refused mass deletion. In memory, owned by the source's poller."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from .errors import (
    FieldMissing,
    FileMakerError,
    FileNotOpen,
    LayoutMissing,
    LoginFailed,
    TooLarge,
    Unreachable,
)

MAX_SKIPS_SHOWN = 50


@dataclass(frozen=True, slots=True)
class Skip:
    """A record left out: its FileMaker key (or recordId), the field and the reason."""

    key: str
    field: str | None
    reason: str
    at: float


def explain(source: str, exc: Exception) -> str:
    """The admin's sentence for a failure of source ``source``."""
    if isinstance(exc, LoginFailed):
        return (
            f"FileMaker refused the login of [filemaker:{source}]: wrong username or password, "
            "or the account's privilege set lacks 'Access via FileMaker Data API (fmrest)' (212)"
        )
    if isinstance(exc, LayoutMissing):
        return f"[filemaker:{source}]: {exc} — create the layout or check its name (105)"
    if isinstance(exc, FieldMissing):
        return (
            f"[filemaker:{source}]: {exc} — a mapped field is not on the layout (102); "
            f"run `ipoint-bridge filemaker check {source}`"
        )
    if isinstance(exc, FileNotOpen):
        return f"[filemaker:{source}]: the database is not open on FileMaker Server (802)"
    if isinstance(exc, Unreachable):
        return f"[filemaker:{source}]: {exc}; the bridge keeps serving what it has and retries"
    if isinstance(exc, TooLarge):
        return f"[filemaker:{source}]: {exc}"
    if isinstance(exc, FileMakerError):
        return f"[filemaker:{source}]: {exc}"
    return f"[filemaker:{source}]: {type(exc).__name__}: {exc}"


@dataclass(slots=True)
class SourceStatus:
    name: str
    last_success: float | None = None
    last_attempt: float | None = None
    last_reconcile: float | None = None
    records_read: int = 0
    records_written: int = 0
    records_deleted: int = 0
    skipped_total: int = 0
    skips: dict[tuple[str, str | None], Skip] = field(default_factory=dict)
    """The records skipped now, by (id, field), oldest first; a fixed record leaves it."""
    last_error: str | None = None
    error_since: float | None = None
    refused_deletion: str | None = None
    polls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    """Records are written in worker threads (a poll's and a scan's at once): the skip list is
    changed and read under this lock."""

    def skip(self, key: str, field_name: str | None, reason: str) -> None:
        """A record left out. Reading the same fault again (the next poll, the reconcile's
        catch-up) counts once; the list keeps the newest ``MAX_SKIPS_SHOWN``."""
        with self._lock:
            old = self.skips.pop((key, field_name), None)
            if old is None or old.reason != reason:
                self.skipped_total += 1
            self.skips[(key, field_name)] = Skip(key, field_name, reason, time.time())
            while len(self.skips) > MAX_SKIPS_SHOWN:
                del self.skips[next(iter(self.skips))]

    def written(self, ids: set[str]) -> None:
        """These records were stored: they are no longer skipped."""
        with self._lock:
            for k in [k for k in self.skips if k[0] in ids]:
                del self.skips[k]

    def newest_skips(self) -> list[Skip]:
        with self._lock:
            return list(reversed(list(self.skips.values())))

    def failed(self, message: str) -> None:
        if self.last_error is None:
            self.error_since = time.time()
        self.last_error = message
        self.last_attempt = time.time()

    def succeeded(self) -> None:
        self.last_error = None
        self.error_since = None
        self.last_attempt = self.last_success = time.time()

    @property
    def ok(self) -> bool:
        return self.last_error is None and self.last_success is not None
