"""Helpers for the FileMaker connector's tests: the emulator's iPoint-like file, the bridge's
``[filemaker:NAME]`` sections pointing at it, a real SQLite store, and one source's poller over
real HTTP driven from a synchronous test."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from filemaker_emulator.ipoint_file import PASSWORD
from filemaker_emulator.testing import EmulatorThread

from bridge import config
from bridge.filemaker.poller import SourcePoller
from bridge.filemaker.sources import build_poller
from bridge.filemaker.state import migrate
from bridge.runtime import open_store
from bridge.store import EventStore
from tests.filemaker.sources import EVENTS, TZ, WORK_ORDERS

T = TypeVar("T")
TOKEN = "fm-test-ingest-token"


def _running(section: str, name: str, url: str, password: str, more: str) -> str:
    """One of the shared sections (tests/filemaker/sources.py) pointed at the emulator."""
    return (
        section.replace("[filemaker:wo]", f"[filemaker:{name}]")
        .replace("[filemaker:ev]", f"[filemaker:{name}]")
        .replace("url = https://fms.example.com", f"url = {url}")
        .replace("password = secret", f"password = {password}")
        + more
        + "poll_seconds = 1\nreconcile_minutes = 15\n"
    )


def work_orders_ini(url: str, *, password: str = PASSWORD, extra: str = "") -> str:
    more = "field.user_name = Technician Name\nfield.customer = Customer\n"
    more += "field.location = Site Address\n"
    return _running(WORK_ORDERS, "workorders", url, password, more) + extra


def events_ini(url: str, *, extra: str = "") -> str:
    more = "field.location = Location\nfield.description = Description\n"
    return _running(EVENTS, "events", url, PASSWORD, more) + extra


def write_ini(folder: Path, body: str, *, head: str = "") -> Path:
    path = folder / "bridge.ini"
    path.write_text(f"[bridge]\ntimezone = {TZ}\ndata_dir = data\n{head}{body}", encoding="utf-8")
    path.chmod(0o600)
    return path


def work_order(number: int, day: dt.date, **over: Any) -> dict[str, Any]:
    """One row for the emulator's ``Work Orders`` table (US dates, as FileMaker keeps them)."""
    row: dict[str, Any] = {
        "Work Order ID": str(number),
        "Work Order Number": number,
        "Work Order Name": f"Job {number}",
        "Technician Login": "chris",
        "Technician Name": "Chris Miller",
        "Customer": "Hughes residence",
        "Site Address": "1840 Lakeview Dr",
        "Notes": "",
        "Status": "Scheduled",
        "Start Date": day.strftime("%m/%d/%Y"),
        "Start Time": "09:00:00",
        "End Date": day.strftime("%m/%d/%Y"),
        "End Time": "10:00:00",
    }
    row.update(over)
    return row


def load_work_orders(
    fm: EmulatorThread, count: int, *, start: int = 1, batch: int = 500, spread_s: float = 7.0
) -> None:
    """``count`` work orders, ``batch`` per bulk call, the clock moved ``spread_s`` between
    batches so the modification timestamps spread as in a real file."""
    day = dt.date(2026, 12, 1)
    for first in range(start, start + count, batch):
        rows = [
            work_order(n, day + dt.timedelta(days=n % 60))
            for n in range(first, min(first + batch, start + count))
        ]
        fm.load("Work Orders", rows)
        fm.advance(spread_s)


def run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await coro_fn()

    return asyncio.run(main())


@contextmanager
def opened(ini: Path) -> Iterator[tuple[config.Settings, EventStore]]:
    settings = config.load(ini)
    store = open_store(settings)
    migrate(store)
    try:
        yield settings, store
    finally:
        store.close()


def with_poller(
    settings: config.Settings,
    store: EventStore,
    name: str,
    body: Callable[[SourcePoller], Awaitable[T]],
) -> T:
    """Run ``body(poller)`` with a fresh poller (a fresh session, the kept position)."""

    async def main() -> T:
        async with aiohttp.ClientSession() as http:
            poller = build_poller(settings, name, store, http)
            try:
                return await body(poller)
            finally:
                await poller.api.logout()

    return asyncio.run(main())


def requests_total(fm: EmulatorThread) -> int:
    return int(fm.stats()["requests"].get("total", 0))
