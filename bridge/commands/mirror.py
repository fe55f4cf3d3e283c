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
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp

from ..config import Settings
from ..errors import ConfigError
from ..mirror.engine import Health, Mirror
from ..runtime import local_caldav_url, open_store
from ..store import EventStore
from .core import load_settings

Work = Callable[[Mirror, aiohttp.ClientSession], Awaitable[Health]]


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


async def converge(
    mirror: Mirror,
    session: aiohttp.ClientSession,
    *,
    timeout: float,
    allow_empty: bool = False,
    before: Callable[[Mirror, list[Any]], None] | None = None,
) -> Health:
    """Poll every source, then push until nothing is queued, no progress is possible, Google
    refuses writes, or ``timeout`` passes."""
    deadline = time.time() + timeout
    targets = await mirror.run(mirror.targets)
    await mirror.poll(session, targets, allow_empty=allow_empty)
    if before is not None:
        await mirror.run(before, mirror, targets)
    while True:
        report = await mirror.run(mirror.push, targets, deadline)
        await mirror.run(mirror.maintain, targets)
        health = await mirror.run(mirror.health, targets)
        if report.blocked or not health.pending or time.time() >= deadline:
            break
        if not report.sent and not report.settled:
            break
        if not report.settled:
            await asyncio.sleep(min(2.0, max(0.0, deadline - time.time())))
    await mirror.run(mirror.finish_pass, targets)
    return health


def _run(args: argparse.Namespace, work: Work) -> int:
    settings = load_settings(args)
    if not settings.google.enabled:
        raise ConfigError(
            "the Google mirror is off: set enabled = yes", file=settings.path, section="google"
        )
    store = open_store(settings)
    try:
        with caldav_for(settings, store) as url:
            mirror = Mirror(settings, store.db, users=store.users, caldav_base=url)

            async def main() -> Health:
                timeout = aiohttp.ClientTimeout(total=120, sock_connect=10)
                async with aiohttp.ClientSession(timeout=timeout) as session:
                    return await work(mirror, session)

            try:
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


def cmd_sync(args: argparse.Namespace) -> int:
    if not args.once:
        return _loop(args)

    async def work(mirror: Mirror, session: aiohttp.ClientSession) -> Health:
        before = (lambda m, t: m.reconcile(t)) if args.reconcile else None
        return await converge(
            mirror, session, timeout=args.timeout, allow_empty=args.allow_empty, before=before
        )

    return _run(args, work)


def _loop(args: argparse.Namespace) -> int:
    async def work(mirror: Mirror, session: aiohttp.ClientSession) -> Health:
        interval = mirror.settings.mirror.interval_seconds
        while True:
            started = time.time()
            await converge(mirror, session, timeout=60)
            await asyncio.sleep(max(0.0, interval - (time.time() - started)))

    try:
        return _run(args, work)
    except KeyboardInterrupt:
        return 0


def cmd_repush(args: argparse.Namespace) -> int:
    async def work(mirror: Mirror, session: aiohttp.ClientSession) -> Health:
        def before(m: Mirror, targets: list[Any]) -> None:
            count = m.repush(future=args.future)
            print(f"{count} events queued again", flush=True)

        return await converge(mirror, session, timeout=args.timeout, before=before)

    return _run(args, work)


def cmd_reconcile(args: argparse.Namespace) -> int:
    async def work(mirror: Mirror, session: aiohttp.ClientSession) -> Health:
        def before(m: Mirror, targets: list[Any]) -> None:
            found = m.reconcile(targets)
            print(
                f"{found.calendars} calendars listed: {found.edited} edited and "
                f"{found.missing} deleted by hand, {found.removed} added by hand, "
                f"{found.reverted} occurrences edited by hand",
                flush=True,
            )

        return await converge(mirror, session, timeout=args.timeout, before=before)

    return _run(args, work)


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
