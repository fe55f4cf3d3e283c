"""The one wrapper for Google Calendar: builds requests, batches them, paces them, retries what
Google says to retry, and maps every failure to ``bridge.google.errors`` in one function.

Google facts it respects (see docs/mirror.md for the sources):

- google-api-python-client is synchronous and httplib2's ``Http`` is not thread-safe, so each
  worker thread gets its own authorized ``Http`` and its own service object; nothing here may
  run on the event loop.
- ``new_batch_http_request()`` ignores ``api_endpoint``; batches are built with
  ``BatchHttpRequest(batch_uri=<endpoint>/batch/calendar/v3)``. Calls in a batch count one by
  one against the quota, so pacing counts parts, not HTTP requests.
- ``list_next()`` mangles repeated query parameters, so pages are fetched with an explicit
  ``pageToken``; ``execute(num_retries=...)`` is never used because it retries without a cap
  and cannot tell ``quotaExceeded`` from a rate limit.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import google.auth.credentials
import google_auth_httplib2  # type: ignore[import-untyped]
import httplib2
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.discovery import build
from googleapiclient.errors import BatchError, HttpError
from googleapiclient.http import BatchHttpRequest, HttpRequest

from .credentials import translate_refresh_error
from .errors import (
    BadRequest,
    Duplicate,
    Forbidden,
    Gone,
    GoogleError,
    NotAuthorized,
    NotFound,
    PreconditionFailed,
    QuotaExceeded,
    RateLimited,
    Transient,
)

logger = logging.getLogger(__name__)

R = TypeVar("R")
Service = Any
"""A googleapiclient ``Resource`` for Calendar v3 (untyped upstream)."""
Build = Callable[[Service], HttpRequest]
"""Builds one request from the calling thread's service object (no I/O)."""
Result = dict[str, Any] | GoogleError
"""A call's answer: the JSON body (``{}`` for an empty one) or the error it ended in."""

_RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
_QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})


class _Resources:
    """A service whose collections (``events()``, ``acl()``...) are built once per thread.

    googleapiclient builds a new collection object, with every method and its docstring, on
    each ``service.events()``; at thousands of calls a minute that churn dominated the
    mirror's memory."""

    def __init__(self, service: Any) -> None:
        self._service = service
        self._built: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Callable[[], Any]:
        built = self._built.get(name)
        if built is None:
            built = self._built[name] = getattr(self._service, name)()
        return lambda: built


class Interrupted(GoogleError):
    """The client was closed while a call waited for pacing or backoff."""


@dataclass(frozen=True, slots=True)
class Tuning:
    """Retry and transport knobs that are not admin configuration (tests shrink them)."""

    backoff_base_s: float = 1.0
    backoff_cap_s: float = 32.0
    """Truncated exponential backoff: ``min(cap, base * 2**n)``, then jitter."""
    max_attempts: int = 8
    timeout_s: float = 30.0
    concurrency: int = 2
    """Batches in flight at once. One is enough for Google's default 600 calls a minute; more
    keep a raised quota busy when each call takes a while (pacing is shared)."""


class CallCounter:
    """Google calls by outcome (each batched call counts once, like Google's quota)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def add(self, outcome: str, n: int = 1) -> None:
        with self._lock:
            self._counts[outcome] = self._counts.get(outcome, 0) + n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def total(self) -> int:
        """Calls sent to Google (HTTP requests carrying batches are not counted twice)."""
        with self._lock:
            return sum(v for k, v in self._counts.items() if k != "http_requests")


class Pacer:
    """A token bucket: at most ``per_minute`` calls a minute, bursts of at most ``burst``."""

    def __init__(
        self, per_minute: int, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self._clock = clock
        self._tokens = float(self.burst)
        self._at = clock()
        self._lock = threading.Lock()

    def acquire(self, n: int, stop: threading.Event) -> None:
        """Wait until ``n`` calls may be sent (``n`` is capped at the burst)."""
        n = min(n, self.burst)
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
                self._at = now
                if self._tokens >= n:
                    self._tokens -= n
                    return
                wait = (n - self._tokens) / self.rate
            if stop.wait(wait):
                raise Interrupted("stopped while pacing Google calls")


def _reason(content: bytes) -> tuple[str, str]:
    """(reason, message) of Google's error envelope, tolerating anything else."""
    try:
        data = json.loads(content.decode("utf-8"))
        error = data["error"]
        message = str(error.get("message", ""))
        items = error.get("errors") or [{}]
        return str(items[0].get("reason", "")), message
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return "", ""


def translate(exc: BaseException) -> GoogleError:
    """Map any failure of a Google call to the bridge's error tree (the only such mapping)."""
    if isinstance(exc, GoogleError):
        return exc
    if isinstance(exc, RefreshError):
        return translate_refresh_error(exc)
    if isinstance(exc, HttpError):
        status = int(exc.resp.status)
        reason, message = _reason(exc.content)
        text = f"Google answered {status} {reason or ''}: {message or exc.resp.reason}".strip()
        if status == 401:
            return NotAuthorized(
                "Google rejected the access token even after a refresh: sign in again",
                status=status,
                reason=reason,
            )
        if status == 429 or (status == 403 and reason in _RATE_REASONS):
            after = exc.resp.get("retry-after")
            try:
                retry_after = float(after) if after else None
            except ValueError:
                retry_after = None
            return RateLimited(text, status=status, reason=reason, retry_after=retry_after)
        if status == 403 and reason in _QUOTA_REASONS:
            return QuotaExceeded(
                "Google says the account's Calendar usage limits are exceeded "
                "(quotaExceeded): it is read-only for a while",
                status=status,
                reason=reason,
            )
        if status == 403:
            return Forbidden(text, status=status, reason=reason)
        kinds: dict[int, type[GoogleError]] = {
            404: NotFound,
            409: Duplicate,
            410: Gone,
            412: PreconditionFailed,
        }
        if status in kinds:
            return kinds[status](text, status=status, reason=reason)
        if status >= 500 or status == 408:
            return Transient(text, status=status, reason=reason)
        return BadRequest(text, status=status, reason=reason)
    if isinstance(exc, BatchError):
        return Transient(f"Google's batch answer was not understood: {exc.reason}")
    if isinstance(exc, TransportError | httplib2.HttpLib2Error | socket.timeout | OSError):
        return Transient(f"cannot reach Google: {type(exc).__name__}: {exc}")
    return Transient(f"unexpected failure talking to Google: {type(exc).__name__}")


def _outcome(result: Result) -> str:
    if not isinstance(result, GoogleError):
        return "ok"
    names: dict[type[GoogleError], str] = {
        RateLimited: "rate_limited",
        QuotaExceeded: "quota_exceeded",
        Transient: "server_error",
        NotFound: "not_found",
        Duplicate: "duplicate",
        Gone: "gone",
        NotAuthorized: "not_authorized",
        Forbidden: "forbidden",
        PreconditionFailed: "precondition_failed",
    }
    return names.get(type(result), "bad_request")


class GoogleClient:
    """Calendar v3 calls against ``api_root`` with ``credentials``, paced and retried.

    Thread-safe: each calling thread gets its own authorized ``Http`` and service object.
    """

    def __init__(
        self,
        api_root: str,
        credentials: google.auth.credentials.Credentials,
        *,
        rate_per_minute: int,
        batch_size: int,
        tuning: Tuning = Tuning(),
        counter: CallCounter | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.api_root = api_root.rstrip("/")
        self.credentials = credentials
        self.batch_size = max(1, batch_size)
        self.tuning = tuning
        self.counter = counter or CallCounter()
        self.pacer = Pacer(rate_per_minute, self.batch_size)
        self.stop = threading.Event()
        self._rng = rng or random.Random()
        self._local = threading.local()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    @property
    def batch_uri(self) -> str:
        return self.api_root + "/batch/calendar/v3"

    def close(self) -> None:
        """Wake every waiting call; later calls raise ``Interrupted``."""
        self.stop.set()
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None

    def submit(self, work: Callable[..., R], *args: Any) -> Future[R]:
        """``work(*args)`` on one of ``tuning.concurrency`` long-lived worker threads (each
        keeps its own ``Http`` and service objects)."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=max(1, self.tuning.concurrency), thread_name_prefix="google"
                )
            return self._pool.submit(work, *args)

    def service(self) -> Service:
        """This thread's service object (built on first use, static discovery, no network)."""
        svc = getattr(self._local, "service", None)
        if svc is None:
            http = google_auth_httplib2.AuthorizedHttp(
                self.credentials, http=httplib2.Http(timeout=self.tuning.timeout_s)
            )
            svc = build(
                "calendar",
                "v3",
                http=http,
                static_discovery=True,
                cache_discovery=False,
                # Google's discovery document says rootUrl + servicePath; api_endpoint replaces
                # both, so the service path is appended here.
                client_options={"api_endpoint": self.api_root + "/calendar/v3/"},
            )
            svc = _Resources(svc)
            self._local.service = svc
            self._local.http = http
        return svc

    def _http(self) -> Any:
        self.service()
        return self._local.http

    def _backoff(self, attempt: int, hint: float | None = None) -> None:
        t = self.tuning
        ceiling = min(t.backoff_cap_s, t.backoff_base_s * (2**attempt))
        delay = ceiling / 2 + self._rng.uniform(0, ceiling / 2)
        if hint:
            delay = max(delay, min(hint, t.backoff_cap_s))
        logger.debug("backing off %.2fs before retrying Google (attempt %d)", delay, attempt + 1)
        if self.stop.wait(delay):
            raise Interrupted("stopped while backing off")

    def execute(self, make: Build) -> dict[str, Any]:
        """One call, paced; transient failures and rate limits retried with backoff.

        Raises:
            GoogleError: the final failure (never a foreign exception).
        """
        result = self.batch([make])[0]
        if isinstance(result, GoogleError):
            raise result
        return result

    def batch(self, makers: Sequence[Build]) -> list[Result]:
        """Many calls as batch requests of at most ``batch_size`` parts.

        Each part is answered on its own: retryable parts (rate limits, 5xx) are sent again
        after a backoff, up to ``max_attempts``; the others come back as errors in order.

        Raises:
            NotAuthorized: the sign-in stopped working (nothing further was sent).
            Interrupted: the client was closed.
        """
        results: list[Result | None] = [None] * len(makers)
        for start in range(0, len(makers), self.batch_size):
            idx = list(range(start, min(start + self.batch_size, len(makers))))
            self._batch_chunk(makers, idx, results)
        return [r if r is not None else Transient("not sent") for r in results]

    def _batch_chunk(
        self, makers: Sequence[Build], idx: list[int], results: list[Result | None]
    ) -> None:
        pending = idx
        attempt = 0
        while pending:
            if self.stop.is_set():
                raise Interrupted("client closed")
            self.pacer.acquire(len(pending), self.stop)
            answers = self._send(makers, pending)
            retry: list[int] = []
            hint: float | None = None
            for i in pending:
                result = answers[i]
                self.counter.add(_outcome(result))
                if isinstance(result, NotAuthorized):
                    raise result
                if isinstance(result, GoogleError) and result.retryable:
                    if attempt + 1 < self.tuning.max_attempts:
                        retry.append(i)
                        hint = max(hint or 0.0, getattr(result, "retry_after", None) or 0.0)
                        continue
                    self.counter.add("abandoned")
                results[i] = result
            pending = retry
            if pending:
                self._backoff(attempt, hint)
                attempt += 1

    def _send(self, makers: Sequence[Build], pending: list[int]) -> dict[int, Result]:
        """One HTTP request: a single call, or a batch of them."""
        svc = self.service()
        self.counter.add("http_requests")
        if len(pending) == 1:
            i = pending[0]
            try:
                body = makers[i](svc).execute()
                return {i: body if isinstance(body, dict) else {}}
            except Exception as exc:  # translated right here
                return {i: translate(exc)}
        answers: dict[int, Result] = {}

        def callback(request_id: str, response: Any, exception: BaseException | None) -> None:
            i = int(request_id)
            if exception is not None:
                answers[i] = translate(exception)
            else:
                answers[i] = response if isinstance(response, dict) else {}

        batch = BatchHttpRequest(callback=callback, batch_uri=self.batch_uri)
        for i in pending:
            batch.add(makers[i](svc), request_id=str(i))
        try:
            batch.execute(http=self._http())
        except Exception as exc:  # the whole request failed
            error = translate(exc)
            return {i: answers.get(i, error) for i in pending}
        return {i: answers.get(i, Transient("no answer for this part")) for i in pending}

    def pages(self, make: Callable[[Service, str | None], HttpRequest]) -> Iterator[dict[str, Any]]:
        """Every page of a list call, passing ``pageToken`` explicitly."""
        token: str | None = None
        while True:
            page = self.execute(_bind(make, token))
            yield page
            token = page.get("nextPageToken")
            if not token:
                return


def public_ical_url(api_root: str, calendar_id: str) -> str:
    """The calendar's public iCal address (Google serves it from calendar.google.com)."""
    from urllib.parse import quote

    root = api_root.rstrip("/")
    host = "https://calendar.google.com" if root == "https://www.googleapis.com" else root
    return f"{host}/calendar/ical/{quote(calendar_id, safe='@')}/public/basic.ics"


def calendar_link(api_root: str, calendar_id: str) -> str:
    """A web link that opens the calendar in Google Calendar."""
    from urllib.parse import quote

    root = api_root.rstrip("/")
    host = "https://calendar.google.com" if root == "https://www.googleapis.com" else root
    return f"{host}/calendar/embed?src={quote(calendar_id, safe='')}"


def _bind(make: Callable[[Service, str | None], HttpRequest], token: str | None) -> Build:
    return lambda svc: make(svc, token)
