"""Hostile-client benchmark for the CalDAV port (issue 10).

The bridge's CalDAV server runs as a subprocess (``caldav_bench``'s, same config: a technician
with ``--events`` events, bcrypt logins with Radicale's login cache). A technician's
authenticated 1-week time-range REPORT is timed, one request after the other:

- anchor: with nobody else on the server;
- under attack: while 16 anonymous clients send REPORT bodies of 1 MiB, half at full speed and
  half 4 KiB every 50 ms, each reconnecting as soon as it is answered, and 1 client drips a
  request one byte every 5 s.

``--guessers N`` adds N clients guessing passwords (not part of the target: each guess costs
a bcrypt check in a worker, which only a rate limit in front can bound). Reports both p95s,
the CalDAV server's peak RSS, and what the attackers got. Targets: p95 under attack < 100 ms,
peak RSS < 300 MB. Every loop is bounded by ``--seconds`` (and the
technician by 10,000 queries). Writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import select
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from caldav_bench import (  # noqa: E402
    REPORT,
    ROOT,
    USER,
    Side,
    prepare,
    start_ours,
    stop_side,
    week_range,
)

BODY = 1024 * 1024
ATTACKERS = 16


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1]


def technician(side: Side, week: str, seconds: float, pause: float) -> list[float]:
    """A technician's week queries, one after the other with ``pause`` between them, for
    ``seconds`` (at most 10,000 of them)."""
    times: list[float] = []
    deadline = time.monotonic() + seconds
    while len(times) < 10_000 and time.monotonic() < deadline:
        status, _, took = side.request("REPORT", week, "1")
        assert status == 207, status
        times.append(took)
        time.sleep(pause)
    return times


def attacker(side: Side, slow: bool, stop: threading.Event, seen: Counter[str]) -> None:
    head = (
        f"REPORT {side.path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\n"
        f"Content-Length: {BODY}\r\n\r\n"
    ).encode()
    chunk = b"<x>" + b"a" * (4096 - 7) + b"</x>"
    while not stop.is_set():
        try:
            with socket.create_connection((side.host, side.port), timeout=30) as conn:
                conn.sendall(head)
                sent = 0
                while sent < BODY and not stop.is_set():
                    conn.sendall(chunk if slow else chunk * 64)
                    sent += len(chunk) * (1 if slow else 64)
                    if slow:
                        time.sleep(0.05)
                status = conn.recv(64).split(b" ", 2)[1:2]
                seen[(status[0].decode() if status else "closed")] += 1
        except OSError as exc:  # answered and closed while still sending: what a refusal is
            seen[type(exc).__name__] += 1
            stop.wait(0.01)


def guesser(side: Side, stop: threading.Event, seen: Counter[str]) -> None:
    """A password guesser: a new wrong password each time (no failed-login cache hit)."""
    while not stop.is_set():
        token = base64.b64encode(f"{USER}:guess-{secrets.token_hex(4)}".encode()).decode()
        try:
            with socket.create_connection((side.host, side.port), timeout=60) as conn:
                conn.sendall(
                    f"GET {side.path} HTTP/1.1\r\nHost: x\r\n"
                    f"Authorization: Basic {token}\r\n\r\n".encode()
                )
                status = conn.recv(64).split(b" ", 2)[1:2]
                seen["guess " + (status[0].decode() if status else "closed")] += 1
        except OSError as exc:
            seen["guess " + type(exc).__name__] += 1


def dripper(side: Side, stop: threading.Event, seen: Counter[str]) -> None:
    request = f"REPORT {side.path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n".encode()
    while not stop.is_set():
        try:
            with socket.create_connection((side.host, side.port), timeout=60) as conn:
                for byte in request:
                    if select.select([conn], [], [], 0)[0]:
                        break  # answered (408) before the request was complete
                    conn.sendall(bytes([byte]))
                    if stop.wait(5):
                        break
                conn.settimeout(1)
                status = conn.recv(64).split(b" ", 2)[1:2]
                seen["drip " + (status[0].decode() if status else "closed")] += 1
        except OSError as exc:
            seen["drip " + type(exc).__name__] += 1


def run(events: int, seconds: float, pause: float, guessers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hostile-bench-") as tmp:
        folder = Path(tmp)
        config = prepare(folder, events, stock=False)
        side = start_ours(folder, config)
        week = REPORT.format(*week_range(events))
        watching = threading.Event()
        watcher = threading.Thread(target=side.watch_rss, args=(watching,), daemon=True)
        watcher.start()
        try:
            technician(side, week, 2, pause)  # warm: login cache, connections
            quiet = technician(side, week, seconds / 2, pause)
            stop = threading.Event()
            seen: Counter[str] = Counter()
            crowd = [
                threading.Thread(target=attacker, args=(side, i % 2 == 1, stop, seen))
                for i in range(ATTACKERS)
            ]
            crowd.append(threading.Thread(target=dripper, args=(side, stop, seen)))
            crowd += [
                threading.Thread(target=guesser, args=(side, stop, seen)) for _ in range(guessers)
            ]
            for thread in crowd:
                thread.start()
            time.sleep(2)  # let the crowd fill the server
            attacked = technician(side, week, seconds, pause)
            stop.set()
            for thread in crowd:
                thread.join(60)
        finally:
            watching.set()
            watcher.join()
            stop_side(side)
    return {
        "events": events,
        "seconds": seconds,
        "guessers": guessers,
        "anchor_requests": len(quiet),
        "anchor_p95_s": p95(quiet),
        "anchor_median_s": statistics.median(quiet),
        "attacked_p95_s": p95(attacked),
        "attacked_median_s": statistics.median(attacked),
        "attacked_requests": len(attacked),
        "peak_rss_mb": side.peak_rss / 2**20,
        "attackers_saw": dict(seen),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument(
        "--seconds", type=float, default=40, help="the attack lasts this long (anchor: half)"
    )
    parser.add_argument("--pause", type=float, default=0.02, help="between a technician's queries")
    parser.add_argument(
        "--guessers",
        type=int,
        default=0,
        help="also this many clients guessing passwords (each guess is a bcrypt check)",
    )
    args = parser.parse_args()
    result = run(args.events, args.seconds, args.pause, args.guessers)
    attacked, anchor = result["attacked_p95_s"], result["anchor_p95_s"]
    print(f"technician's 1-week REPORT p95, alone:       {anchor * 1000:7.1f} ms")
    print(
        f"technician's 1-week REPORT p95, under attack: {attacked * 1000:7.1f} ms "
        f"({attacked / anchor:.1f}× the anchor; target < 100 ms: "
        f"{'ok' if attacked < 0.1 else 'MISSED'})"
    )
    rss = result["peak_rss_mb"]
    print(
        f"CalDAV server peak RSS: {rss:.0f} MB (target < 300 MB: {'ok' if rss < 300 else 'MISSED'})"
    )
    print(
        "attackers got:", ", ".join(f"{k} {v}" for k, v in sorted(result["attackers_saw"].items()))
    )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"hostile-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
