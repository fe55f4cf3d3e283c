"""CalDAV benchmark: the iPoint plugin against stock Radicale 3.9 holding the same events.

Both servers run as subprocesses on 127.0.0.1 with the same htpasswd file (bcrypt, 12 rounds)
and ``[auth] cache_logins = true`` (both with a 300 s cache, so a login expiry does not land in
a timed sample on one side only); stock Radicale uses its multifilesystem storage, rights
``owner_only``. Every request is authenticated (Basic) and asks for gzip, as clients do; the
HTTP/1.0 servers close each connection, so every request opens one.

Measured per size (1k and 10k events side by side, the bridge alone at 100k):
whole-calendar GET of an unchanged calendar (repeated, no If-None-Match: the bridge serves
the gzipped body it keeps by ETag) and the first GET after a change (rebuilt), a 1-week
time-range REPORT with calendar-data, an incremental sync-collection after one change, the
first request after a start, 8 concurrent clients' REPORT throughput, an initial
sync-collection (every href and etag), and the server's peak RSS. Prints a table; writes
JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import http.client
import json
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import bcrypt
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bridge.caldav import layout, set_password, start_caldav  # noqa: E402
from bridge.config import load  # noqa: E402
from bridge.ical import item_text  # noqa: E402
from bridge.records import EventRecord  # noqa: E402
from bridge.runtime import open_store  # noqa: E402
from bridge.timeutil import zone  # noqa: E402

USER, PASSWORD, TZ = "chris", "bench-pw", "America/Chicago"
PER_DAY = 8
DAY0 = date(2026, 1, 5)
LOGIN_CACHE = {"auth": {"cache_successful_logins_expiry": "300"}}


def make_records(n: int) -> list[EventRecord]:
    """``PER_DAY`` jobs a day from DAY0; every 100th a weekly series of 10."""
    tz = zone(TZ)
    out = []
    for i in range(n):
        day = DAY0 + timedelta(days=i // PER_DAY)
        start = datetime(day.year, day.month, day.day, 8 + i % PER_DAY, tzinfo=tz)
        out.append(
            EventRecord(
                id=f"WO-{i:06d}",
                user=USER,
                title=f"Install rack #{i}",
                start=start,
                end=start + timedelta(minutes=50),
                timezone=TZ,
                kind="work_order",
                number=str(i),
                customer=f"Customer {i % 500}",
                phone="+1 312 555 0100",
                location=f"{i % 999 + 1} Main St, Springfield",
                description="Bring ladder, HDMI cables and the wall mount.",
                rrule="FREQ=WEEKLY;COUNT=10" if i % 100 == 0 else None,
            )
        )
    return out


def week_range(n: int) -> tuple[str, str]:
    mid = DAY0 + timedelta(days=n // PER_DAY // 2)
    monday = mid - timedelta(days=mid.weekday())
    return f"{monday:%Y%m%d}T060000Z", f"{monday + timedelta(days=7):%Y%m%d}T060000Z"


REPORT = (
    '<?xml version="1.0" encoding="utf-8"?><C:calendar-query xmlns:D="DAV:" '
    'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>'
    '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
    '<C:time-range start="{0}" end="{1}"/></C:comp-filter></C:comp-filter></C:filter>'
    "</C:calendar-query>"
)
SYNC = (
    '<?xml version="1.0" encoding="utf-8"?><sync-collection xmlns="DAV:"><sync-token>{0}'
    "</sync-token><sync-level>1</sync-level><prop><getetag/></prop></sync-collection>"
)


@dataclass
class Side:
    name: str
    path: str
    proc: subprocess.Popen[bytes]
    host: str
    port: int
    change: Callable[[int], None] = field(default=lambda i: None)
    peak_rss: int = 0

    def request(
        self, method: str, body: str | None = None, depth: str | None = None
    ) -> tuple[int, bytes, float]:
        headers = {
            "Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
            "Accept-Encoding": "gzip",
        }
        if depth is not None:
            headers["Depth"] = depth
        if body is not None:
            headers["Content-Type"] = "application/xml; charset=utf-8"
        began = time.perf_counter()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
        try:
            conn.request(method, self.path, body=body.encode() if body else None, headers=headers)
            response = conn.getresponse()
            data = response.read()
            took = time.perf_counter() - began  # to the last byte, before unpacking it
            if response.getheader("Content-Encoding") == "gzip":
                data = gzip.decompress(data)
        finally:
            conn.close()
        return response.status, data, took

    def watch_rss(self, stop: threading.Event) -> None:
        proc = psutil.Process(self.proc.pid)
        while not stop.is_set():
            try:
                rss = sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)])
            except psutil.Error:
                return
            self.peak_rss = max(self.peak_rss, rss)
            stop.wait(0.05)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(host: str, port: int, proc: subprocess.Popen[bytes], limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def prepare(folder: Path, n: int, stock: bool) -> Path:
    """A bridge config and store with ``n`` events; with ``stock``, the same items as files."""
    config = folder / "bridge.ini"
    config.write_text(
        f"[bridge]\ntimezone = {TZ}\ndata_dir = data\n[calendar:{USER}]\nname = Chris\n"
    )
    settings = load(config)
    store = open_store(settings)
    records = make_records(n)
    for i in range(0, n, 2000):
        store.apply(records[i : i + 2000])
    set_password(settings.data_path(settings.caldav.htpasswd), USER, PASSWORD)
    if stock:
        coll = folder / "stock" / "collection-root" / USER / "calendar"
        coll.mkdir(parents=True)
        (coll / ".Radicale.props").write_text(
            json.dumps({"tag": "VCALENDAR", "D:displayname": "Chris"})
        )
        for event in store.iter_calendar(USER):
            (coll / layout.href_for(event.id)).write_text(
                item_text(event.ics, event.tzid), newline=""
            )
        (folder / "stock.ini").write_text(
            f"[auth]\ntype = htpasswd\nhtpasswd_filename = {settings.data_path('users.htpasswd')}\n"
            "htpasswd_encryption = bcrypt\nhtpasswd_cache = True\ncache_logins = True\n"
            "cache_successful_logins_expiry = 300\n[rights]\ntype = owner_only\n"
            f"[storage]\nfilesystem_folder = {folder / 'stock'}\n[logging]\nlevel = warning\n"
        )
    store.close()
    return config


def start_ours(folder: Path, config: Path) -> Side:
    log = (folder / "ours.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    match = re.match(r"URL http://([\d.]+):(\d+)", line)
    if not match:
        raise RuntimeError(f"bridge server did not start: {line!r}")
    settings = load(config)
    store = open_store(settings)
    records = {r.id: r for r in make_records(1)}

    def change(i: int) -> None:
        store.apply([replace(records["WO-000000"], title=f"Changed {i}")])

    return Side("bridge", f"/{USER}/ipoint/", proc, match.group(1), int(match.group(2)), change)


def start_stock(folder: Path, n: int) -> Side:
    port = free_port()
    ini = folder / "stock.ini"
    ini.write_text(ini.read_text() + f"[server]\nhosts = 127.0.0.1:{port}\n")
    log = (folder / "stock.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(ini)], stdout=log, stderr=log, cwd=folder
    )
    wait_ready("127.0.0.1", port, proc)
    side = Side("stock", f"/{USER}/calendar/", proc, "127.0.0.1", port)
    item = folder / "stock" / "collection-root" / USER / "calendar" / "WO-000000.ics"
    text = item.read_text()

    def change(i: int) -> None:
        body = text.replace("SUMMARY:Install rack #0", f"SUMMARY:Changed {i}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        conn.request(
            "PUT",
            side.path + "WO-000000.ics",
            body=body.encode(),
            headers={"Authorization": "Basic " + auth, "Content-Type": "text/calendar"},
        )
        assert conn.getresponse().status in (201, 204)
        conn.close()

    side.change = change
    return side


def median_time(side: Side, reps: int, method: str, body: str | None, depth: str | None) -> float:
    times = []
    for _ in range(reps):
        status, _, took = side.request(method, body, depth)
        assert status in (200, 207), (side.name, method, status)
        times.append(took)
    return statistics.median(times)


def measure(side: Side, n: int, reps: int, per_client: int) -> dict[str, Any]:
    stop = threading.Event()
    watcher = threading.Thread(target=side.watch_rss, args=(stop,), daemon=True)
    watcher.start()
    week = REPORT.format(*week_range(n))
    status, data, first = side.request("REPORT", week, "1")  # first request after start
    assert status == 207, (side.name, status, data[:300])
    out: dict[str, Any] = {"events": n, "first_request_s": first}
    side.request("GET")  # the repeat GETs below find the calendar unchanged
    out["get_s"] = median_time(side, reps, "GET", None, None)
    times = []
    for i in range(reps):
        side.change(1000 + i)
        status, _, took = side.request("GET")
        assert status == 200, (side.name, status)
        times.append(took)
    out["get_changed_s"] = statistics.median(times)
    out["report_s"] = median_time(side, reps, "REPORT", week, "1")
    status, data, out["initial_sync_s"] = side.request("REPORT", SYNC.format(""), "1")
    assert status == 207 and data.count(b"<response>") == n, (side.name, status, data[:300])
    token = re.search(rb"<sync-token>([^<]+)</sync-token>", data)
    assert token is not None
    times = []
    for i in range(reps):
        side.change(i)
        status, data, took = side.request("REPORT", SYNC.format(token.group(1).decode()), "1")
        assert status == 207 and data.count(b"<response>") == 1, (side.name, data[:500])
        token = re.search(rb"<sync-token>([^<]+)</sync-token>", data)
        assert token is not None
        times.append(took)
    out["sync_s"] = statistics.median(times)
    done = [0]
    lock = threading.Lock()

    def client() -> None:
        for _ in range(per_client):
            status, _, _ = side.request("REPORT", week, "1")
            assert status == 207
            with lock:
                done[0] += 1

    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out["concurrent_rps"] = done[0] / (time.perf_counter() - began)
    stop.set()
    watcher.join()
    out["peak_rss_mb"] = side.peak_rss / 2**20
    return out


def stop_side(side: Side) -> None:
    if side.proc.stdin is not None:
        side.proc.stdin.close()
    try:
        side.proc.wait(30)
    except subprocess.TimeoutExpired:
        side.proc.terminate()
        side.proc.wait(30)


def run_size(n: int, with_stock: bool, quick: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"events": n}
    with tempfile.TemporaryDirectory(prefix=f"caldav-bench-{n}-") as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        config = prepare(folder, n, with_stock)
        print(f"  {n} events prepared in {time.perf_counter() - began:.1f} s", flush=True)
        ours = start_ours(folder, config)
        try:
            result["bridge"] = measure(
                ours, n, reps=5 if quick else 9, per_client=10 if quick else 25
            )
        finally:
            stop_side(ours)
        if with_stock:
            stock = start_stock(folder, n)
            try:
                # At 1k stock answers in tens of milliseconds: as many samples as the bridge gets.
                reps = 3 if n > 2000 else (5 if quick else 9)
                result["stock"] = measure(stock, n, reps=reps, per_client=1 if n > 2000 else 3)
            finally:
                stock.proc.terminate()
                stock.proc.wait(30)
    return result


TARGETS = (  # (key, label, target ratio, higher is better)
    ("get_s", "repeat GET, unchanged calendar", 50, False),
    ("get_changed_s", "first GET after a change", 10, False),
    ("report_s", "1-week time-range REPORT", 20, False),
    ("sync_s", "incremental sync-collection", 50, False),
    ("concurrent_rps", "8 clients' REPORT throughput", 50, True),
    ("first_request_s", "first request after start", None, False),
    ("initial_sync_s", "initial sync-collection (all)", None, False),
)


def report(results: list[dict[str, Any]]) -> None:
    print(f"\n{'measure':32} {'events':>7} {'bridge':>10} {'stock':>10} {'ratio':>8}  target")
    for key, label, target, higher in TARGETS:
        for row in results:
            ours, stock = row["bridge"][key], row.get("stock", {}).get(key)
            unit = "req/s" if higher else "s"
            ratio = None if stock is None else (ours / stock if higher else stock / ours)
            row.setdefault("ratios", {})[key] = ratio
            verdict = ""
            if ratio is not None and target is not None:
                verdict = f"≥{target}× {'ok' if ratio >= target else 'MISSED'}"
            if key == "first_request_s" and row["events"] == 10000:
                verdict = f"<1 s {'ok' if ours < 1 else 'MISSED'}"
            print(
                f"{label:32} {row['events']:>7} {ours:>9.4f}{unit[0]} "
                f"{'' if stock is None else f'{stock:9.4f}{unit[0]}':>10} "
                f"{'' if ratio is None else f'{ratio:7.1f}×':>8}  {verdict}"
            )
    by_size = {row["events"]: row["bridge"] for row in results}
    if 10000 in by_size and 100000 in by_size:
        growth = by_size[100000]["sync_s"] / by_size[10000]["sync_s"]
        print(
            f"\nsync 10k -> 100k: {growth:.2f}× ({'ok' if growth <= 2 else 'MISSED'}, target ≤2×)"
        )
    for row in results:
        stock_rss = row.get("stock", {}).get("peak_rss_mb")
        print(
            f"peak RSS at {row['events']:>6}: bridge {row['bridge']['peak_rss_mb']:.0f} MB"
            + (f", stock {stock_rss:.0f} MB" if stock_rss else "")
        )


def serve(config: str) -> None:
    settings = load(config)
    handle = start_caldav(settings, port=0, radicale_overrides=LOGIN_CACHE)
    print("URL", handle.url, flush=True)
    sys.stdin.read()
    handle.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1k side by side and the bridge alone at 10k (about a minute)",
    )
    parser.add_argument(
        "--sizes",
        help="comma-separated event counts, each side by side with stock (e.g. 10000)",
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0
    bcrypt.gensalt()  # fail early without bcrypt
    plan = (
        [(int(n), True) for n in args.sizes.split(",")]
        if args.sizes
        else [(1000, True), (10000, False)]
        if args.quick
        else [(1000, True), (10000, True), (100000, False)]
    )
    results = []
    for n, with_stock in plan:
        print(f"{n} events{' (bridge and stock)' if with_stock else ' (bridge alone)'}", flush=True)
        results.append(run_size(n, with_stock, args.quick))
    report(results)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"caldav-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.json"
    path.write_text(json.dumps({"quick": args.quick, "results": results}, indent=2))
    print(f"\nwrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
