"""``ipoint-bridge sync``, ``repush`` and ``reconcile``: the Google mirror from the command line.

- ``sync --once``: one pass to convergence: read every source, send every queued change, keep
  names and sharing; exit 0 when Google equals the sources, 1 with the reasons when not.
  Without ``--once`` it keeps mirroring until interrupted (what ``serve`` does in the
  background).
- ``repush [--future]``: queue every event (from today on) again and send it.
- ``reconcile``: list each Google calendar by the bridge's private mark and repair only the
  differences (hand edits, hand deletes, copies added by hand), then send.

The iPoint calendars are read from the bridge's CalDAV server with ``[caldav] service_user``;
when no server answers at ``[caldav] host:port`` the command starts one on a loopback port for
its own run.

Only one process writes to Google: these commands take the store's Google writer lease
(``mirror.writer``) and refuse, naming the holder, while a ``serve`` mirror holds it. Long runs
show their progress (``bridge.progress``): a bar on a terminal, a line every few seconds
otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sys
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..errors import ConfigError
from ..progress import Progress
from ..runtime import instance_name, local_caldav_url, open_store
from ..store import EventStore
from ..store.lease import Leases
from .core import load_settings

if TYPE_CHECKING:
    # At run time each function imports the mirror (aiohttp, Google's client) when it runs:
    # every other command (``import`` above all) would otherwise load it at every start.
    from ..mirror.engine import Health, Mirror
    from ..mirror.sources import Target

    Job = Callable[[Mirror], None]
    """Work a command does on the mirror's worker between reading the sources and the push."""


def _reachable(url: str) -> bool:
    host_port = url.split("://", 1)[1].rsplit(":", 1)
    try:
        with socket.create_connection((host_port[0].strip("[]"), int(host_port[1])), timeout=1):
            return True
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def caldav_for(settings: Settings, store: EventStore) -> Iterator[str]:
    """The URL of a running CalDAV server of this bridge, started here if none answers."""
    url = local_caldav_url(settings)
    if _reachable(url) or not settings.caldav.enabled:
        yield url
        return
    from ..caldav import start_caldav

    handle = start_caldav(settings, store=store, host="127.0.0.1", port=0)
    try:
        yield handle.url
    finally:
        handle.stop()


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(args)
    if not settings.google.enabled:
        raise ConfigError(
            "the Google mirror is off: set enabled = yes", file=settings.path, section="google"
        )
    return settings


class _Sending:
    """The progress of the changes a command sends to Google: started once the pass's job has
    queued them, advanced by Google's calls as they are made (the queue itself is only read
    on the mirror's thread, between rounds)."""

    def __init__(self, mirror: Mirror, label: str) -> None:
        self.mirror = mirror
        self.label = label
        self.progress: Progress | None = None
        self._watch: asyncio.Task[None] | None = None

    async def start(self) -> None:
        queued = (await self.mirror.run(self.mirror.health)).pending
        self.progress = Progress(self.label, queued, unit="changes")
        self._watch = asyncio.create_task(self._follow(self.progress))

    async def _follow(self, progress: Progress) -> None:
        start = self.mirror.counter.total()
        while True:
            progress.update(min(self.mirror.counter.total() - start, progress.total or 0))
            await asyncio.sleep(0.25)

    async def close(self, health: Health | None) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self.progress is not None:
            left = health.pending if health is not None else 0
            self.progress.update(max(0, (self.progress.total or 0) - left))
            self.progress.close(f"{left} still queued" if left else "")


def _converge(
    args: argparse.Namespace, label: str, job: Job | None = None, allow_empty: bool = False
) -> int:
    """One pass to convergence (``mirror_pass`` with a deadline of ``--timeout``), ``job`` run
    on the mirror's worker before the push, holding the Google writer's lease; the sending
    shows its progress under ``label``; exit 0 when Google equals the sources."""
    import aiohttp

    from ..mirror.engine import Mirror
    from ..mirror.mirror_pass import mirror_pass
    from ..mirror.writer import GoogleWriter

    settings = _settings(args)
    store = open_store(settings)
    try:
        with caldav_for(settings, store) as url:
            mirror = Mirror(settings, store.db, users=store.users, caldav_base=url)
            # The same lease as serve's mirror: refuse rather than write beside it.
            writer = GoogleWriter(
                Leases(store.db, seconds=settings.mirror.lease_seconds),
                instance_name(settings),
                mirror.status,
                on_lost=mirror.close,
            )
            sending = _Sending(mirror, label)

            async def run_job(targets: list[Target]) -> None:
                if job is not None:
                    await mirror.run(job, mirror)
                await sending.start()

            async def main() -> Health:
                timeout = aiohttp.ClientTimeout(total=120, sock_connect=10)
                writer.start()
                health: Health | None = None
                try:
                    async with aiohttp.ClientSession(timeout=timeout) as session:
                        report = await mirror_pass(
                            mirror,
                            session,
                            job=run_job,
                            allow_empty=allow_empty,
                            converge_by=time.time() + float(args.timeout),
                        )
                        health = report.health
                        return health
                finally:
                    await sending.close(health)
                    await writer.stop()

            try:
                writer.take_now(lambda text: print(text, file=sys.stderr, flush=True))
                health = asyncio.run(main())
            finally:
                mirror.shutdown()
    finally:
        store.close()
    calls = mirror.counter.total()
    if health.converged:
        print(f"in step with Google ({calls} Google calls)")
        return 0
    for reason in health.reasons:
        print(f"not in step: {reason}", file=sys.stderr)
    return 1


def _daemon(args: argparse.Namespace) -> int:
    """Mirror until interrupted: the daemon ``serve`` runs, without the web server."""
    from ..mirror.service import MirrorService

    settings = _settings(args)
    store = open_store(settings)
    try:
        with caldav_for(settings, store) as url:

            async def main() -> None:
                service = MirrorService(settings, store, caldav_base=url)
                await service.start()
                try:
                    await asyncio.Event().wait()
                finally:
                    await service.stop()

            asyncio.run(main())
    except KeyboardInterrupt:
        return 0
    finally:
        store.close()
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    if not args.once:
        return _daemon(args)
    return _converge(
        args, "sync: sending to Google", _repair if args.reconcile else None, args.allow_empty
    )


def cmd_repush(args: argparse.Namespace) -> int:
    def job(mirror: Mirror) -> None:
        count = mirror.repush(future=args.future)
        print(f"{count} events queued again", flush=True)

    return _converge(args, "repush: sending to Google", job)


def _repair(mirror: Mirror) -> None:
    from ..mirror.reconcile import reconcile

    reconcile(mirror)


def _reconcile(mirror: Mirror) -> None:
    from ..mirror.reconcile import reconcile

    with Progress("reconcile: listing Google", unit="calendars") as listing:

        def step(done: int, total: int) -> None:
            if listing.total != total:
                listing.set_total(total)
            listing.update(done)

        found = reconcile(mirror, step)
    print(
        f"{found.calendars} calendars listed: {found.edited} edited and "
        f"{found.missing} deleted by hand, {found.removed} added by hand, "
        f"{found.reverted} occurrences edited by hand",
        flush=True,
    )


def cmd_reconcile(args: argparse.Namespace) -> int:
    return _converge(args, "reconcile: sending to Google", _reconcile)


def register(sub: Any) -> None:
    p = sub.add_parser("sync", help="mirror the calendars into Google (--once: one pass)")
    p.add_argument("--once", action="store_true", help="one pass to convergence, then exit")
    p.add_argument("--timeout", type=float, default=900.0, help="give up after SECONDS")
    p.add_argument(
        "--allow-empty",
        action="store_true",
        help="accept a source that suddenly reads empty (deletes its events in Google)",
    )
    p.add_argument("--reconcile", action="store_true", help="first repair hand edits in Google")
    p.set_defaults(handler=cmd_sync)
    p = sub.add_parser("repush", help="send events to Google again (Re-Push)")
    p.add_argument("--future", action="store_true", help="only events from today on")
    p.add_argument("--timeout", type=float, default=3600.0, help="give up after SECONDS")
    p.set_defaults(handler=cmd_repush)
    p = sub.add_parser(
        "reconcile", help="list Google and repair events edited, deleted or added by hand"
    )
    p.add_argument("--timeout", type=float, default=3600.0, help="give up after SECONDS")
    p.set_defaults(handler=cmd_reconcile)
