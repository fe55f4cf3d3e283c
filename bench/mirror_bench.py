"""Google mirror benchmark: the bridge's calendars mirrored into the local Google emulator over
loopback HTTP, measured as a shop would see it.

Phases (each in a fresh data folder):
1. Initial mirror: N events of 10 technicians, every emulator call delayed ``--latency-ms``
   (default 50), the per-user quota raised with the event count (``N`` a minute, so the run
   stays near one minute); ``ipoint-bridge sync --once`` in a subprocess paced at 97 % of it.
   Reports API calls per event, the achieved rate against the quota (from the emulator's own
   request log), calls Google rejected and whether any was left unretried.
2. Unchanged: a second ``sync --once``: API calls per unchanged event (must be 0).
3. Steady state: ``ipoint-bridge sync`` (the daemon loop) running, single changes applied to the
   store one at a time; change-to-Google is store commit -> the write arriving at the emulator.
4. Memory: ``sync --once`` over ``--rss-events`` events (default 100,000; no latency, large
   quota); the subprocess's peak RSS sampled every 100 ms.

Everything listens on 127.0.0.1 and every wait is bounded. ``--quick`` shrinks the counts.
Results: JSON in bench/results/ (and printed).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from google_emulator.settings import EmulatorSettings  # noqa: E402
from google_emulator.testing import EmulatorThread  # noqa: E402

from bridge import config  # noqa: E402
from bridge.caldav import start_caldav  # noqa: E402
from bridge.google.credentials import (  # noqa: E402
    AuthorizedUser,
    credentials_path,
    save_authorized_user,
)
from bridge.mirror import ids  # noqa: E402
from bridge.runtime import open_store  # noqa: E402
from bridge.validate import validate_batch  # noqa: E402

TZ = "America/Chicago"
TECHS = [f"tech{i:02d}" for i in range(10)]
ACCOUNT = "demo@example.com"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def records(n: int, start: date) -> list[dict[str, Any]]:
    rng = random.Random(n)
    out = []
    for i in range(n):
        day = start + timedelta(days=rng.randrange(365))
        hour = 7 + rng.randrange(10)
        rec: dict[str, Any] = {
            "id": f"wo{i}",
            "user": TECHS[i % len(TECHS)],
            "user_name": TECHS[i % len(TECHS)].title(),
            "kind": "work_order" if i % 3 else "event",
            "title": f"Work order {i}",
            "start": f"{day.isoformat()}T{hour:02d}:00",
            "end": f"{day.isoformat()}T{hour + 1:02d}:30",
            "location": f"{i} Main Street",
            "customer": f"Customer {i % 97}",
        }
        if i % 50 == 0:
            rec["rrule"] = "FREQ=WEEKLY;COUNT=8"
        out.append(rec)
    return out


@dataclass
class Rig:
    """One data folder: config, store, CalDAV server, emulator."""

    folder: Path
    emu: EmulatorThread
    ini: Path
    settings: config.Settings
    store: Any
    caldav: Any

    def close(self) -> None:
        self.caldav.stop()
        self.store.close()
        self.emu.stop()


def rig(folder: Path, *, quota: int, rate: int, parallel: int, log_size: int) -> Rig:
    emu = EmulatorThread(
        EmulatorSettings(
            user_rate_limit_per_min=quota,
            project_rate_limit_per_min=quota * 10,
            request_log_size=log_size,
        )
    )
    emu.start()
    port = free_port()
    ini = folder / "bridge.ini"
    ini.write_text(
        f"""[bridge]
timezone = {TZ}
data_dir = data
log_level = warning
[caldav]
host = 127.0.0.1
port = {port}
service_user = ipoint-mirror
service_password = bench-secret
[google]
enabled = yes
api_endpoint = {emu.base_url}
token_uri = {emu.base_url}/token
rate_per_minute = {rate}
batch_size = 50
parallel_batches = {parallel}
[mirror]
interval_seconds = 0.5
reconcile_hours = 0
"""
    )
    settings = config.load(ini)
    info = emu.authorized_user_info(ACCOUNT)
    save_authorized_user(
        credentials_path(settings),
        AuthorizedUser(
            info["client_id"], info["client_secret"], info["refresh_token"], info["token_uri"]
        ),
    )
    store = open_store(settings)
    caldav = start_caldav(settings, store=store, host="127.0.0.1", port=port)
    return Rig(folder, emu, ini, settings, store, caldav)


def load(r: Rig, n: int) -> None:
    raws = records(n, date.today())
    for i in range(0, n, 5000):
        chunk = validate_batch([(None, x) for x in raws[i : i + 5000]], TZ)
        r.store.apply(chunk)


def cli(r: Rig, *args: str) -> list[str]:
    return [sys.executable, "-m", "bridge", "-c", str(r.ini), *args]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def run_sync(r: Rig, timeout: float) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """``sync --once``; (result, seconds, peak RSS in MB). Output goes to files, not pipes:
    the mirror logs a line per Google write, which would fill a pipe nobody reads yet."""
    started = time.time()
    out_path, err_path = r.folder / "sync.out", r.folder / "sync.err"
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen(
            cli(r, "sync", "--once", "--timeout", str(timeout)),
            stdout=out,
            stderr=err,
            text=True,
            env=env(),
        )
        peak = 0
        ps = psutil.Process(proc.pid)
        while proc.poll() is None and time.time() - started < timeout + 60:
            with contextlib.suppress(psutil.Error):
                peak = max(peak, ps.memory_info().rss)
            time.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
    result = subprocess.CompletedProcess(
        proc.args, proc.returncode, out_path.read_text(), err_path.read_text()
    )
    return result, time.time() - started, peak / 2**20


def calls_of(r: Rig) -> dict[str, Any]:
    counters = r.emu.control("GET", "counters")
    return dict(counters["users"].get(ACCOUNT, {}))


def total_calls(r: Rig) -> int:
    return int(calls_of(r).get("calls", 0))


def event_writes(r: Rig) -> list[dict[str, Any]]:
    log = r.emu.control("GET", f"requests?limit={10**7}")["requests"]
    return [x for x in log if x["method"] in ("calendar.events.insert", "calendar.events.update")]


def google_matches(r: Rig, n: int) -> int:
    """Events of the store missing or stale in Google (0: nothing lost)."""
    snapshot = r.emu.control("GET", "snapshot")
    live: dict[str, str] = {}
    for cal in snapshot["calendars"]:
        for ev in cal["events"]:
            if ev.get("status") != "cancelled":
                live[ev["id"]] = ev.get("summary", "")
    missing = 0
    for raw in records(n, date.today()):
        gid = ids.event_id("user:" + raw["user"], "ipoint-" + raw["id"])
        if live.get(gid) != raw["title"]:
            missing += 1
    return missing


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}] {text}", file=sys.stderr, flush=True)


def phase_initial(folder: Path, n: int, latency_ms: int) -> dict[str, Any]:
    quota = max(600, n)  # per user per minute: raised with the event count
    rate = int(quota * 0.97)
    # Each call waits latency_ms at the emulator, batch parts one after another: enough
    # batches in flight to keep the quota busy.
    # The emulator answers a batch's parts one after another, so one connection carries at
    # most 1000 / latency_ms calls a second whatever the batch size.
    parallel = max(2, min(32, math.ceil(rate / 60 * latency_ms / 1000 * 1.5)))
    r = rig(folder, quota=quota, rate=rate, parallel=parallel, log_size=n * 3 + 1000)
    try:
        load(r, n)
        say(f"initial mirror of {n} events")
        r.emu.control("POST", "faults", {"kind": "latency", "latency_ms": latency_ms})
        result, seconds, rss = run_sync(r, timeout=max(600, n / rate * 60 * 3))
        calls = calls_of(r)
        writes = [w for w in event_writes(r) if w["status"] < 300]
        span = max(writes[-1]["t"] - writes[0]["t"], 1e-6) if len(writes) > 1 else 1.0
        by_status: dict[str, int] = {}
        for per_status in calls.get("by_method", {}).values():
            for status, count in per_status.items():
                by_status[status] = by_status.get(status, 0) + count
        rejected = sum(v for k, v in by_status.items() if k in ("403", "429"))
        missing = google_matches(r, n)
        initial = {
            "events": n,
            "exit_code": result.returncode,
            "seconds": round(seconds, 1),
            "api_calls": int(calls.get("calls", 0)),
            "api_calls_per_event": round(int(calls.get("calls", 0)) / n, 4),
            "quota_per_minute": quota,
            "rate_per_minute_configured": rate,
            "parallel_batches": parallel,
            "achieved_per_minute": round(len(writes) / span * 60, 1),
            "achieved_vs_quota": round(len(writes) / span * 60 / quota, 3),
            "calls_by_status": by_status,
            "rejected_calls": rejected,
            "rejected_left_unretried": missing,
            "peak_rss_mb": round(rss, 1),
        }
        say(f"initial mirror done in {seconds:.1f}s; second sync")
        before = total_calls(r)
        again, seconds2, _ = run_sync(r, timeout=120)
        say(f"second sync done in {seconds2:.1f}s; steady state")
        unchanged = {
            "exit_code": again.returncode,
            "seconds": round(seconds2, 1),
            "api_calls": total_calls(r) - before,
            "api_calls_per_unchanged_event": (total_calls(r) - before) / n,
        }
        return {"initial": initial, "unchanged": unchanged, "steady": phase_steady(r, n)}
    finally:
        r.close()


def phase_steady(r: Rig, n: int, changes: int | None = None) -> dict[str, Any]:
    changes = changes or (20 if n <= 2000 else 60)
    r.emu.control("DELETE", "faults")
    r.emu.control("POST", "faults", {"kind": "latency", "latency_ms": 50})
    proc = subprocess.Popen(
        cli(r, "sync"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env()
    )
    lags: list[float] = []
    try:
        time.sleep(3.0)  # the daemon's first pass (nothing to send)
        rng = random.Random(7)
        raws = records(n, date.today())
        for k in range(changes):
            raw = dict(raws[rng.randrange(n)])
            raw["title"] = f"Changed {k}"
            gid = ids.event_id("user:" + raw["user"], "ipoint-" + raw["id"])
            applied = time.time()
            r.store.apply(validate_batch([(None, raw)], TZ))
            deadline = applied + 30
            seen = None
            while time.time() < deadline and seen is None:
                time.sleep(0.05)
                log = r.emu.control("GET", "requests?limit=200")["requests"]
                hits = [x for x in log if x.get("target") == gid and x["t"] >= applied - 0.01]
                if hits:
                    seen = hits[0]["t"]
            lags.append((seen - applied) if seen is not None else float("inf"))
            time.sleep(rng.uniform(0.2, 0.8))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    finite = sorted(lags)
    p95 = finite[max(0, int(len(finite) * 0.95 + 0.5) - 1)]
    return {
        "changes": changes,
        "change_to_google_p50_s": round(statistics.median(finite), 3),
        "change_to_google_p95_s": round(p95, 3),
        "change_to_google_max_s": round(finite[-1], 3),
        "lost": sum(1 for x in lags if x == float("inf")),
    }


def phase_memory(folder: Path, n: int) -> dict[str, Any]:
    quota = 10**7
    r = rig(folder, quota=quota, rate=100_000, parallel=4, log_size=1000)
    try:
        t = time.time()
        load(r, n)
        loaded = time.time() - t
        say(f"memory: {n} events loaded in {loaded:.1f}s; sync --once")
        result, seconds, rss = run_sync(r, timeout=3000)
        return {
            "events": n,
            "store_load_seconds": round(loaded, 1),
            "exit_code": result.returncode,
            "sync_seconds": round(seconds, 1),
            "api_calls": total_calls(r),
            "peak_rss_mb": round(rss, 1),
            "stderr_tail": result.stderr[-500:] if result.returncode else "",
        }
    finally:
        r.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 events")
    parser.add_argument("--events", type=int, default=None)
    parser.add_argument("--rss-events", type=int, default=None)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-only", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    n = args.events or (1000 if args.quick else 10_000)
    rss_n = args.rss_events or (10_000 if args.quick else 100_000)
    results: dict[str, Any] = {
        "bench": "mirror",
        "quick": args.quick,
        "latency_ms": args.latency_ms,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    with tempfile.TemporaryDirectory(prefix="mirror-bench-") as tmp:
        if not args.memory_only:
            a = Path(tmp) / "mirror"
            a.mkdir()
            results.update(phase_initial(a, n, args.latency_ms))
        if not args.skip_memory:
            b = Path(tmp) / "memory"
            b.mkdir()
            results["memory"] = phase_memory(b, rss_n)
    results["targets"] = {}
    if "initial" in results:
        i, u, s = results["initial"], results["unchanged"], results["steady"]
        results["targets"] = {
            "api_calls_per_event_le_1.05": i["api_calls_per_event"] <= 1.05,
            "unchanged_calls_eq_0": u["api_calls"] == 0,
            "achieved_rate_ge_90pct": i["achieved_vs_quota"] >= 0.9,
            "rejected_left_unretried_eq_0": i["rejected_left_unretried"] == 0,
            "change_to_google_p95_le_5s": s["change_to_google_p95_s"] <= 5.0,
        }
    if "memory" in results:
        results["targets"]["rss_le_150mb"] = results["memory"]["peak_rss_mb"] <= 150
    name = "mirror-memory" if args.memory_only else "mirror"
    out = args.out or ROOT / "bench" / "results" / (
        f"{name}-quick.json" if args.quick else f"{name}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0 if all(results["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
