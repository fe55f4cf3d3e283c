"""Running the FileMaker sources inside ``serve``: one loop per source that polls every
``poll_seconds``, looks for deletions every ``reconcile_minutes``, wakes early on a webhook's
hint (reading the hinted keys first), and keeps going through every failure: FileMaker down, a
wrong password or a missing layout are shown on the admin page and ``/readyz`` and retried with
a growing pause, never raised into the server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable

from ..errors import BridgeError, SafetyValveError
from .errors import FileMakerError
from .poller import SourcePoller
from .status import SourceStatus, explain

logger = logging.getLogger(__name__)

MAX_BACKOFF_S = 300.0
MAX_HINTED_KEYS = 1000
"""Keys kept from webhooks between two reads; more in one burst means "read now" anyway."""


class SourceRunner:
    """The background loop of one source."""

    def __init__(self, poller: SourcePoller, *, poll_s: float, reconcile_s: float) -> None:
        self.poller = poller
        self.poll_s = poll_s
        self.reconcile_s = reconcile_s
        self.wake = asyncio.Event()
        self.hinted: list[str] = []
        # The first turn looks for deletions too: records deleted while the bridge was down
        # are found at start, not reconcile_minutes later.
        self.next_reconcile = time.monotonic()
        self._failures = 0
        self._verified = False
        self._scan: asyncio.Task[None] | None = None
        self.passes = 0
        """Completed loop turns (a test or bench waits on it instead of sleeping)."""

    @property
    def name(self) -> str:
        return self.poller.spec.name

    @property
    def status(self) -> SourceStatus:
        return self.poller.status

    def hint(self, keys: Iterable[str]) -> None:
        """A webhook said records changed: read these keys first, then poll, now."""
        room = MAX_HINTED_KEYS - len(self.hinted)
        self.hinted.extend(list(keys)[: max(0, room)])
        self.wake.set()

    async def turn(self) -> None:
        """One read: hinted keys, changes, and deletions when due. Never raises but for
        cancellation; failures land on the status."""
        keys, self.hinted = self.hinted, []
        try:
            if not self._verified:
                await self.poller.verify()
                self._verified = True
            if keys:
                await self.poller.read_keys(keys)
            await self.poller.poll()
            self._failures = 0
            if time.monotonic() >= self.next_reconcile and self._scan is None:
                self.next_reconcile = time.monotonic() + self.reconcile_s
                self._scan = asyncio.create_task(self._reconcile(), name=f"scan:{self.name}")
        except (FileMakerError, BridgeError) as exc:
            self._fail(exc)
        except Exception as exc:  # one source's bug must not end the loop or the server
            logger.exception("[filemaker:%s] read failed", self.name)
            self._fail(exc)
        finally:
            self.passes += 1

    async def _reconcile(self) -> None:
        """The deletion scan, beside the polls (its own session): a scan of 100,000 keys takes
        seconds, and changes must not wait for it."""
        try:
            with contextlib.suppress(SafetyValveError):  # kept on the status
                await self.poller.reconcile()
        except (FileMakerError, BridgeError) as exc:
            self._fail(exc)
        except Exception as exc:  # as in turn(): the loop and the server go on
            logger.exception("[filemaker:%s] deletion scan failed", self.name)
            self._fail(exc)
        finally:
            self._scan = None

    def _fail(self, exc: Exception) -> None:
        self._verified = False  # the layout may be what changed: check it again first
        message = explain(self.name, exc)
        if message != self.status.last_error:
            logger.warning("%s", message)
        self.status.failed(message)
        self._failures += 1

    def delay(self, spent: float = 0.0) -> float:
        """Seconds to the next turn: turns start every ``poll_s`` (the time a turn took is
        not added to it), and further apart after failures."""
        if not self._failures:
            return max(0.0, self.poll_s - spent)
        return min(MAX_BACKOFF_S, self.poll_s * float(2 ** min(self._failures, 10)))

    async def run(self) -> None:
        while True:
            self.wake.clear()  # a hint arriving during the turn sets it again: read once more
            started = time.monotonic()
            await self.turn()
            if self.wake.is_set():
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.delay(time.monotonic() - started))

    async def close(self) -> None:
        if self._scan is not None:
            self._scan.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._scan
        for api in {id(a): a for a in (self.poller.api, self.poller.scan_api)}.values():
            with contextlib.suppress(FileMakerError):
                await api.logout()
