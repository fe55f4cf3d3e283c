"""Ingest benchmark: 10,000 records through the batch API and through `import`.

Reports records per second (target: at least 5,000 on a 2-core machine) and the database size.
Anchor, measured in the same run: the same records' JSON written by one bare SQLite
executemany (no validation, rendering, change log or index) — the floor any store pays.
The API is measured end to end against a real `ipoint-bridge serve` subprocess over loopback
HTTP, authenticated as iPoint would be.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"


def records(n: int, seed: int = 7) -> list[dict[str, object]]:
    rnd = random.Random(seed)
    users = [f"tech{i}" for i in range(20)]
    out: list[dict[str, object]] = []
    day0 = date(2026, 12, 1)
    for i in range(n):
        day = day0 + timedelta(days=rnd.randrange(-60, 180))
        hour = rnd.randrange(7, 17)
        rec: dict[str, object] = {
            "id": f"WO-{i:06d}",
            "user": rnd.choice(users),
            "user_name": None,
            "kind": rnd.choice(["work_order", "event"]),
            "title": f"Install {rnd.choice(['TV', 'rack', 'speakers', 'cameras'])} #{i}",
            "start": f"{day.isoformat()}T{hour:02d}:00",
            "end": f"{day.isoformat()}T{hour + 2:02d}:00",
            "customer": f"Customer {rnd.randrange(500)}",
            "phone": f"555-{rnd.randrange(10000):04d}",
            "location": f"{rnd.randrange(1, 999)} Main St, Springfield",
            "description": "Bring ladder, HDMI cables and the wall mount.",
            "number": f"{i}",
        }
        rec.pop("user_name")
        if i % 10 == 0:
            rec["attendees"] = [rnd.choice(users)]
        out.append(rec)
    return out


def anchor(rows: list[dict[str, object]], folder: Path) -> float:
    db = sqlite3.connect(folder / "anchor.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (id TEXT PRIMARY KEY, data TEXT)")
    t0 = time.perf_counter()
    db.execute("BEGIN")
    db.executemany("INSERT INTO t VALUES (?, ?)", [(r["id"], json.dumps(r)) for r in rows])
    db.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    db.close()
    return elapsed


def write_config(folder: Path) -> Path:
    cfg = folder / "bridge.ini"
    cfg.write_text(
        "[bridge]\ntimezone = America/Chicago\ndata_dir = data\n"
        f"[web]\nport = 0\ningest_token = {TOKEN}\nmax_body_bytes = 104857600\n"
        "[caldav]\nenabled = no\n"
    )
    return cfg


def via_api(rows: list[dict[str, object]], folder: Path, chunk: int) -> tuple[float, int]:
    cfg = write_config(folder)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridge", "-c", str(cfg), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        url = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.stdout is not None:
            line = proc.stdout.readline()
            if line.startswith("web: "):
                url = line.split()[1]
            if line.strip() == "ready":
                break
        assert url, "server did not start"
        bodies = [json.dumps(rows[i : i + chunk]).encode() for i in range(0, len(rows), chunk)]
        t0 = time.perf_counter()
        for body in bodies:
            req = urllib.request.Request(
                url + "/api/v1/events",
                data=body,
                method="POST",
                headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(req, timeout=300) as resp:
                assert resp.status == 200
                summary = json.loads(resp.read())["summary"]
                assert summary["created"] + summary["updated"] + summary["unchanged"] > 0
        elapsed = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(30)
    return elapsed, db_size(folder / "data")


def via_import(rows: list[dict[str, object]], folder: Path) -> tuple[float, int]:
    cfg = write_config(folder)
    path = folder / "export.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bridge", "-c", str(cfg), "import", str(path)],
        check=True,
        capture_output=True,
        env=env,
    )
    return time.perf_counter() - t0, db_size(folder / "data")


def db_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob("bridge.sqlite3*"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=10_000, help="records per batch request")
    args = parser.parse_args()
    rows = records(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for sub in ("a", "api", "imp"):
            (base / sub).mkdir()
        t_anchor = anchor(rows, base / "a")
        t_api, size_api = via_api(rows, base / "api", args.chunk)
        t_imp, size_imp = via_import(rows, base / "imp")
    result = {
        "records": args.n,
        "anchor_bare_sqlite_rps": round(args.n / t_anchor),
        "batch_api_rps": round(args.n / t_api),
        "import_rps_including_process_start": round(args.n / t_imp),
        "batch_api_vs_anchor": round(t_api / t_anchor, 1),
        "db_bytes_api": size_api,
        "db_bytes_import": size_imp,
        "target_rps": 5000,
    }
    print(f"{'path':<38}{'records/s':>12}{'x anchor time':>15}")
    print(f"{'anchor: bare SQLite executemany':<38}{result['anchor_bare_sqlite_rps']:>12}{1:>15}")
    print(
        f"{'batch API (POST, one request)':<38}{result['batch_api_rps']:>12}"
        f"{result['batch_api_vs_anchor']:>15}"
    )
    print(
        f"{'import (CLI subprocess, whole run)':<38}"
        f"{result['import_rps_including_process_start']:>12}"
        f"{round(t_imp / t_anchor, 1):>15}"
    )
    print(
        f"database size: {size_api / 1e6:.1f} MB via API, {size_imp / 1e6:.1f} MB via import "
        f"({size_api / args.n:.0f} bytes/record)"
    )
    ok = min(result["batch_api_rps"], result["import_rps_including_process_start"]) >= 5000
    print("target >= 5,000 records/s:", "met" if ok else "NOT met")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "ingest.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
