"""FileMaker connector benchmark: the emulator with 20 ms of latency on every Data API request.

Measures, in one run:
1. First load of N records (default 100,000) through the Data API into the store, in records/s
   (target >= 2,000). Anchor, measured in the same run: the same FileMaker records mapped,
   validated and written by the bridge's own store with no HTTP at all (``EventStore.apply`` in
   pages of the same size): the floor the connector cannot beat.
2. Idle poll cost: HTTP requests and time of a poll with nothing changed, at 10,000 and at N
   records (target: at most 2 requests, the same at both sizes).
3. One change among N records visible over CalDAV: ``ipoint-bridge serve`` (a subprocess, on the
   store of step 1, so it also resumes from the kept position) polls every ``poll_seconds``; a
   FileMaker user edits one work order; the bench GETs that event from the CalDAV server as the
   technician until the new title shows (target: within poll_seconds + 1 s).
4. Deletion scan of N keys: time and extra memory (tracemalloc peak, in this process) of one
   ``reconcile`` (target: within 30 s and 50 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
from filemaker_emulator.testing import EmulatorThread

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from bridge import config  # noqa: E402
from bridge.caldav.htpasswd import set_password  # noqa: E402
from bridge.filemaker.poller import SourcePoller  # noqa: E402
from bridge.filemaker.sources import build_poller, reader_of  # noqa: E402
from bridge.filemaker.state import migrate  # noqa: E402
from bridge.runtime import open_store  # noqa: E402
from bridge.store.db import open_database  # noqa: E402
from bridge.store.sql import SQLEventStore  # noqa: E402
from tests.filemaker.fmdata import DataSession  # noqa: E402
from tests.filemaker.support import work_order, work_orders_ini  # noqa: E402

LATENCY_MS = 20
POLL_SECONDS = 2.0
CHANGES = 5
"""Changes timed one after another, each at a random point of the poll cycle."""
PAGE_SIZE = 5000
"""``page_size`` of the source: the emulator scans and sorts every record for each find (a real
server uses its indexes), so fewer, larger pages are what makes a first load fast here."""
TECH, TECH_PW = "tech0", "tech0-bench-pw"  # owner of the work order the bench edits


class EmulatorProcess(EmulatorThread):
    """The emulator in its own process (``python -m filemaker_emulator``), as FileMaker Server
    is another machine: its work and memory stay out of the figures measured here. The control
    API is the same HTTP one ``EmulatorThread`` calls."""

    def start(self) -> str:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "filemaker_emulator"], stdout=subprocess.PIPE, text=True
        )
        assert self._proc.stdout is not None
        self.base_url = self._proc.stdout.readline().strip()
        return self.base_url

    def stop(self) -> None:
        self._proc.terminate()
        self._proc.wait(30)


def rows(first: int, count: int, base: dt.datetime) -> list[dict[str, Any]]:
    """Work orders with modification stamps a few seconds apart, as in a file edited over time."""
    day = dt.date(2026, 12, 1)
    out = []
    for n in range(first, first + count):
        row = work_order(
            n, day + dt.timedelta(days=n % 90), **{"Technician Login": f"tech{n % 20}"}
        )
        row["Modified"] = (base + dt.timedelta(seconds=3 * n)).strftime("%m/%d/%Y %H:%M:%S")
        out.append(row)
    return out


def load(fm: EmulatorThread, first: int, count: int, base: dt.datetime) -> None:
    for start in range(first, first + count, 5000):
        fm.load("Work Orders", rows(start, min(5000, first + count - start), base))


def requests_total(fm: EmulatorThread) -> int:
    return int(fm.stats()["requests"].get("total", 0))


def write_ini(folder: Path, fm_url: str, web_port: int, caldav_port: int) -> Path:
    path = folder / "bridge.ini"
    path.write_text(
        "[bridge]\ntimezone = America/Chicago\ndata_dir = data\nlog_level = warning\n"
        f"[web]\nport = {web_port}\n[caldav]\nport = {caldav_port}\n"
        + work_orders_ini(fm_url).replace(
            "poll_seconds = 1", f"poll_seconds = {POLL_SECONDS:g}\npage_size = {PAGE_SIZE}"
        )
    )
    path.chmod(0o600)
    return path


async def with_poller(settings: config.Settings, store: Any, body: Any) -> Any:
    async with aiohttp.ClientSession() as http:
        poller: SourcePoller = build_poller(settings, "workorders", store, http)
        try:
            return await body(poller)
        finally:
            await poller.api.logout()


def anchor(settings: config.Settings, fm: EmulatorThread, n: int, folder: Path) -> float:
    """Seconds to map, validate and store the same N records with no HTTP (a fresh store)."""

    async def fetch_all(p: SourcePoller) -> list[Any]:
        out: list[Any] = []
        offset = 1
        while True:
            page = await p.api.records("Bridge Work Orders", offset=offset, limit=5000)
            out.extend(page.records)
            offset += len(page.records)
            if len(page.records) < 5000:
                return out

    fm.clear_faults()
    store = open_store(settings)
    try:
        records = asyncio.run(with_poller(settings, store, fetch_all))
    finally:
        store.close()
    fm.add_fault(kind="latency", latency_ms=LATENCY_MS)
    bare = SQLEventStore(open_database("sqlite", path=str(folder / "anchor.sqlite3")))
    read = reader_of(settings, settings.filemaker["workorders"])
    t0 = time.perf_counter()
    page = 1000
    for i in range(0, len(records), page):
        events = []
        for r in records[i : i + page]:
            event, _ = read(r)
            if event is not None:
                events.append(event)
        bare.apply(events)
    elapsed = time.perf_counter() - t0
    bare.close()
    assert len(records) == n, (len(records), n)
    return elapsed


def idle_poll(settings: config.Settings, store: Any, fm: EmulatorThread) -> tuple[int, float]:
    async def body(p: SourcePoller) -> tuple[int, float]:
        await p.poll()  # catch up (and log in)
        before = requests_total(fm)
        t0 = time.perf_counter()
        result = await p.poll()
        assert result.written == 0
        return requests_total(fm) - before, time.perf_counter() - t0

    result: tuple[int, float] = asyncio.run(with_poller(settings, store, body))
    return result


def caldav_title(url: str, event_id: str) -> str | None:
    auth = base64.b64encode(f"{TECH}:{TECH_PW}".encode()).decode()
    request = urllib.request.Request(
        f"{url}/{TECH}/ipoint/{event_id}.ics", headers={"Authorization": f"Basic {auth}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
    except (urllib.error.URLError, OSError):
        return None
    for line in text.splitlines():
        if line.startswith("SUMMARY:"):
            return line[len("SUMMARY:") :]
    return None


def scanned(web: str) -> bool:
    """The serve's first deletion scan is done (its timestamp in /metrics is set)."""
    try:
        with urllib.request.urlopen(f"{web}/metrics", timeout=10) as response:
            text = response.read().decode()
    except (urllib.error.URLError, OSError):
        return False
    name = "ipoint_bridge_filemaker_last_reconcile_timestamp_seconds"
    return any(line.startswith(name) and not line.endswith(" 0") for line in text.splitlines())


def change_latency(ini: Path, fm: EmulatorThread, n: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridge", "-c", str(ini), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        caldav = web = ""
        assert proc.stdout is not None
        deadline = time.monotonic() + 300
        for line in proc.stdout:
            if line.startswith("caldav: "):
                caldav = line.split(" ", 1)[1].strip()
            if line.startswith("web: "):
                web = line.split(" ", 1)[1].strip()
            if line.strip() == "ready" or time.monotonic() > deadline:
                break
        target = 20 * (n // 40)  # a work order of tech0
        event_id = f"WO-{target}"
        while caldav_title(caldav, event_id) is None and time.monotonic() < deadline:
            time.sleep(0.5)  # the serve's first poll (resuming) settles
        while not scanned(web) and time.monotonic() < deadline:
            time.sleep(0.5)  # and its first deletion scan: measure a change, not a scan
        time.sleep(POLL_SECONDS * 2)
        rnd = random.Random(11)
        seen: list[float] = []
        with DataSession(fm.base_url) as s:
            for i in range(CHANGES):
                event_id = f"WO-{target - 20 * 40 * i}"
                rid = s.record_id("Bridge Work Orders", "Work Order ID", event_id[3:])
                time.sleep(rnd.uniform(0, POLL_SECONDS))  # at any point of the poll cycle
                title = f"Moved {i}"
                t0 = time.monotonic()  # the change exists in FileMaker once the PATCH returns
                s.patch(rid, {"Work Order Name": title})
                while time.monotonic() - t0 < POLL_SECONDS + 30:
                    if caldav_title(caldav, event_id) == title:
                        break
                    time.sleep(0.02)
                seen.append(time.monotonic() - t0)
        return seen
    finally:
        proc.terminate()
        proc.wait(30)


def deletion_scan(
    settings: config.Settings, store: Any, fm: EmulatorThread
) -> tuple[float, float, int]:
    async def body(p: SourcePoller) -> tuple[float, float, int]:
        await p.api.login()
        tracemalloc.start()
        t0 = time.perf_counter()
        deleted = await p.reconcile()
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return elapsed, peak / 1e6, deleted

    result: tuple[float, float, int] = asyncio.run(with_poller(settings, store, body))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=100_000, help="records (default 100,000)")
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()
    n, small = args.n, min(10_000, args.n // 10)
    base = dt.datetime(2026, 1, 5, 8, 0, 0)
    results: dict[str, Any] = {"records": n, "latency_ms": LATENCY_MS, "page_size": PAGE_SIZE}
    with tempfile.TemporaryDirectory() as tmp, EmulatorProcess() as fm:
        folder = Path(tmp)
        ini = write_ini(folder, fm.base_url, 0, 0)
        settings = config.load(ini)
        set_password(settings.data_path(settings.caldav.htpasswd), TECH, TECH_PW, rounds=4)
        fm.add_fault(kind="latency", latency_ms=LATENCY_MS)

        load(fm, 1, small, base)
        store = open_store(settings)
        migrate(store)
        try:
            idle_small = idle_poll(settings, store, fm)
            load(fm, small + 1, n - small, base)
            # the first load proper: a fresh store, all N records
        finally:
            store.close()
        for leftover in (settings.data_path(settings.store.path),):
            for suffix in ("", "-wal", "-shm"):
                Path(str(leftover) + suffix).unlink(missing_ok=True)
        store = open_store(settings)
        migrate(store)
        try:
            t0 = time.perf_counter()
            first = asyncio.run(with_poller(settings, store, lambda p: p.poll()))
            load_s = time.perf_counter() - t0
            assert first.written == n, first
            idle_big = idle_poll(settings, store, fm)
        finally:
            store.close()
        anchor_s = anchor(settings, fm, n, folder)
        latency = change_latency(ini, fm, n)
        store = open_store(settings)
        try:
            scan_s, scan_mb, deleted = deletion_scan(settings, store, fm)
        finally:
            store.close()

    results.update(
        first_load_rps=round(n / load_s),
        first_load_requests=first.requests,
        anchor_store_rps=round(n / anchor_s),
        first_load_vs_anchor=round(anchor_s / load_s, 2),
        idle_poll_requests_10k=idle_small[0],
        idle_poll_ms_10k=round(idle_small[1] * 1000, 1),
        idle_poll_requests_n=idle_big[0],
        idle_poll_ms_n=round(idle_big[1] * 1000, 1),
        change_visible_s_median=round(sorted(latency)[len(latency) // 2], 2),
        change_visible_s_max=round(max(latency), 2),
        poll_seconds=POLL_SECONDS,
        deletion_scan_s=round(scan_s, 2),
        deletion_scan_peak_mb=round(scan_mb, 1),
        deletion_scan_deleted=deleted,
    )
    print(
        f"FileMaker bench, {n:,} work orders, {LATENCY_MS} ms per Data API request, "
        f"page_size {PAGE_SIZE}"
    )
    print(
        f"  anchor: map + validate + store, no HTTP   {results['anchor_store_rps']:>8,} records/s"
    )
    print(
        f"  first load through the Data API          {results['first_load_rps']:>8,} records/s "
        f"({first.requests} requests; {results['first_load_vs_anchor']} x anchor) "
        f"target >= 2,000: {'met' if results['first_load_rps'] >= 2000 else 'NOT met'}"
    )
    flat = idle_big[0] <= 2 and idle_big[0] == idle_small[0]
    print(
        f"  idle poll at {small:,}: {idle_small[0]} requests, {results['idle_poll_ms_10k']} ms; "
        f"at {n:,}: {idle_big[0]} requests, {results['idle_poll_ms_n']} ms "
        f"target <= 2 and flat: {'met' if flat else 'NOT met'}"
    )
    print(
        f"  one change visible over CalDAV after    median {results['change_visible_s_median']} s, "
        f"max {results['change_visible_s_max']} s of {CHANGES} (poll_seconds {POLL_SECONDS:g}) "
        f"target <= poll_seconds + 1: {'met' if max(latency) <= POLL_SECONDS + 1 else 'NOT met'}"
    )
    print(
        f"  deletion scan of {n:,} keys               {results['deletion_scan_s']:>8} s, "
        f"{results['deletion_scan_peak_mb']} MB peak "
        f"target <= 30 s and 50 MB: {'met' if scan_s <= 30 and scan_mb <= 50 else 'NOT met'}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
