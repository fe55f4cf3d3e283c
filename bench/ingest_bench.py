"""Ingest benchmark: 10,000 records through the batch API and through `import`, and `import`
of one JSON array at 10,000 and 100,000 records in several shapes.

Reports records per second (target: at least 5,000 on a 2-core machine) and the database size;
for the array shapes, the rate at 100,000 against the rate at 10,000 (about 1 when `import` is
linear in the file's size; it was quadratic, counting newlines from the start for every record).
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


def records(
    n: int, seed: int = 7, *, one_user: bool = False, notes: int = 0
) -> list[dict[str, object]]:
    rnd = random.Random(seed)
    users = [f"tech{i}" for i in range(20)]
    out: list[dict[str, object]] = []
    day0 = date(2026, 12, 1)
    for i in range(n):
        day = day0 + timedelta(days=rnd.randrange(-60, 180))
        hour = rnd.randrange(7, 17)
        rec: dict[str, object] = {
            "id": f"WO-{i:06d}",
            "user": "tech0" if one_user else rnd.choice(users),
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
        if notes:
            rec["description"] = (f"Note {i}: " + "check the rack, label every cable. " * 20)[
                :notes
            ]
        if i % 10 == 0 and not one_user:
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


def via_import(
    rows: list[dict[str, object]], folder: Path, shape: str = "lines"
) -> tuple[float, int]:
    """`import` as a subprocess; ``shape``: JSON lines, a pretty-printed array ("array", a
    record's object over many lines) or the whole array on one line ("one-line")."""
    cfg = write_config(folder)
    if shape == "lines":
        path = folder / "export.jsonl"
        path.write_text("\n".join(json.dumps(r) for r in rows))
    else:
        path = folder / "export.json"
        path.write_text(json.dumps(rows, indent=None if shape == "one-line" else 1))
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


ARRAY_SHAPES: list[tuple[str, str, dict[str, object]]] = [
    ("array", "one JSON array, pretty-printed", {}),
    ("one-line", "the whole file on one line", {}),
    ("array", "one technician holds everything", {"one_user": True}),
    ("array", "notes of 400 characters", {"notes": 400}),
]


def array_scaling(
    base: Path, small: int, large: int, t_anchor_per_record: float
) -> list[dict[str, object]]:
    """`import` of one JSON array at ``small`` and ``large`` records, per shape."""
    out: list[dict[str, object]] = []
    print(f"\n{'import of one JSON array':<34}{'n':>8}{'records/s':>11}{'x anchor':>10}")
    for index, (shape, label, options) in enumerate(ARRAY_SHAPES):
        rates: dict[int, float] = {}
        for n in (small, large):
            folder = base / f"shape{index}-{n}"
            folder.mkdir()
            elapsed, _ = via_import(records(n, **options), folder, shape)  # type: ignore[arg-type]
            rates[n] = n / elapsed
            ratio_to_anchor = elapsed / (t_anchor_per_record * n)
            print(f"{label:<34}{n:>8}{rates[n]:>11.0f}{ratio_to_anchor:>10.1f}")
        out.append(
            {
                "shape": label,
                f"rps_{small}": round(rates[small]),
                f"rps_{large}": round(rates[large]),
                "rate_large_over_small": round(rates[large] / rates[small], 2),
            }
        )
        print(f"{'':<34}rate at {large} / rate at {small}: {rates[large] / rates[small]:.2f}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=10_000, help="records per batch request")
    parser.add_argument(
        "--large", type=int, default=100_000, help="records of the large array import (0: skip)"
    )
    args = parser.parse_args()
    rows = records(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for sub in ("a", "api", "imp"):
            (base / sub).mkdir()
        t_anchor = anchor(rows, base / "a")
        t_api, size_api = via_api(rows, base / "api", args.chunk)
        t_imp, size_imp = via_import(rows, base / "imp")
        scaling = array_scaling(base, args.n, args.large, t_anchor / args.n) if args.large else []
    result: dict[str, object] = {
        "records": args.n,
        "anchor_bare_sqlite_rps": round(args.n / t_anchor),
        "batch_api_rps": round(args.n / t_api),
        "import_rps_including_process_start": round(args.n / t_imp),
        "batch_api_vs_anchor": round(t_api / t_anchor, 1),
        "db_bytes_api": size_api,
        "db_bytes_import": size_imp,
        "target_rps": 5000,
        "import_array_scaling": scaling,
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
    rates = [args.n / t_api, args.n / t_imp]
    rates += [float(str(s[f"rps_{args.large}"])) for s in scaling]
    ok = min(rates) >= 5000
    print("target >= 5,000 records/s:", "met" if ok else "NOT met")
    if scaling:
        worst = min(float(str(s["rate_large_over_small"])) for s in scaling)
        print(
            f"linear (rate at {args.large} within 20% of the rate at {args.n}):",
            "yes" if worst >= 0.8 else f"NO (worst ratio {worst:.2f})",
        )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "ingest.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
