"""Exactly one process writes to Google: the holder of the store's ``google-writer`` lease.

Every ``serve`` instance sharing a store runs a ``GoogleWriter``; so do ``sync``, ``repush`` and
``reconcile`` on the command line. The holder renews the lease every quarter of ``[mirror]
lease_seconds``; the others try to take it as often, so when the holder dies (kill -9, a lost
machine) another takes over within about 1.25 times ``lease_seconds`` and carries on from the
shared status tables. The mirror's status writes are fenced by the lease's token
(``StatusDB.fence``): a holder that stalled and was replaced has its next status write rolled
back and stops, and the calls it made meanwhile are safe to repeat (deterministic event ids).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from ..errors import BridgeError, StoreError
from ..store.db import Connection
from ..store.lease import GOOGLE_WRITER, Lease, LeaseLost, Leases, new_owner
from .status import StatusDB

logger = logging.getLogger(__name__)


class WriterBusy(BridgeError):
    """Another process writes to Google now."""


class GoogleWriter:
    """This process's claim on the Google writer's lease, fencing ``status`` by it."""

    def __init__(
        self,
        leases: Leases,
        instance: str,
        status: StatusDB,
        *,
        on_gained: Callable[[], None] | None = None,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        self.leases = leases
        self.instance = instance
        self.lease: Lease | None = None
        self._owner = new_owner()
        self._status = status
        self._on_gained = on_gained
        self._on_lost = on_lost
        self._task: asyncio.Task[None] | None = None
        status.fence = self.fence

    @property
    def every(self) -> float:
        return self.leases.seconds / 4

    @property
    def holds(self) -> bool:
        return self.lease is not None

    def fence(self, conn: Connection) -> None:
        """``StatusDB.fence``: writes go through only while our token is the current one."""
        lease = self.lease
        if lease is None:
            raise LeaseLost(GOOGLE_WRITER, self.instance, None)
        Leases.fence(conn, lease)

    def step(self) -> None:
        """Renew the lease, or try to take it (blocking; one short transaction)."""
        held = self.lease
        try:
            if held is not None:
                self.lease = self.leases.renew(held)
                return
            self.lease = self.leases.acquire(GOOGLE_WRITER, self.instance, self._owner)
        except LeaseLost as exc:
            self.lease = None
            logger.warning("no longer the Google writer: %s", exc)
            if self._on_lost is not None:
                self._on_lost()
            return
        except StoreError as exc:
            logger.warning("Google writer's lease: %s", exc)
            return
        if self.lease is not None and held is None:
            logger.info(
                "%s is now the instance writing to Google (lease token %d)",
                self.instance,
                self.lease.token,
            )
            if self._on_gained is not None:
                self._on_gained()

    async def _keep(self) -> None:
        while True:
            await asyncio.to_thread(self.step)
            await asyncio.sleep(self.every)

    def start(self) -> None:
        """Keep (or wait for) the lease in the background."""
        self._task = asyncio.create_task(self._keep(), name="google-writer-lease")

    async def stop(self) -> None:
        """Stop renewing and give the lease up, so another instance takes over at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        lease, self.lease = self.lease, None
        if lease is not None:
            with contextlib.suppress(StoreError):
                await asyncio.to_thread(self.leases.release, lease)

    def take_now(self, notify: Callable[[str], None] | None = None) -> None:
        """For a command-line run: hold the lease, waiting at most one lease period (a holder
        killed a moment ago leaves its lease behind that long); then raise ``WriterBusy``
        naming the holder (a live ``serve`` renews its lease and keeps it)."""
        deadline = time.monotonic() + self.leases.seconds + self.every
        told = False
        while True:
            self.step()
            if self.lease is not None:
                return
            current = self.leases.current(GOOGLE_WRITER)
            who = current.holder if current is not None else "another process"
            if time.monotonic() >= deadline:
                raise WriterBusy(
                    f"{who} is writing to Google (the mirror of 'serve'), so this command "
                    "would write beside it: use the admin page's Re-Push or Reconcile instead, "
                    "or stop that instance first."
                )
            if not told and notify is not None:
                notify(
                    f"waiting for {who} to stop writing to Google (its lease ends in "
                    f"{max(0.0, current.expires - current.now) if current else 0:.0f} s "
                    "unless it renews it)"
                )
                told = True
            time.sleep(min(self.every, max(0.0, deadline - time.monotonic())))
