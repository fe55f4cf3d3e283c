"""Several instances: 16 clients' 1-week REPORT throughput through nginx in front of two
``serve`` processes sharing one PostgreSQL store, against one instance behind the same nginx
recipe (the anchor, measured in the same run); and how long the Google writer's lease takes to
move to the second instance after ``kill -9`` of the first.

Everything is real: PostgreSQL (``tests/pg.py``), ``ipoint-bridge serve`` subprocesses, Debian's
nginx terminating TLS with the shipped locations (``tests/proxy.py``), the Google emulator for
the takeover. The server answers under the GIL, so a second process is how it scales on a
2-core machine. Clients keep their TLS connection (as calendar apps do), log in with Basic
(bcrypt, 12 rounds; Radicale's login cache on), and run in 4 processes of 4 threads so the
load generator's own GIL is not the limit. Target: two instances >= 1.6x one instance. The bench
also prints the CPU each process group spends per REPORT and, from it, the best ratio the
machine allows when PostgreSQL, nginx and the clients share its cores with the instances.
Writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing
import os
import re
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from caldav_bench import PASSWORD, REPORT, TZ, USER, make_records, week_range  # noqa: E402

from bridge.caldav import set_password  # noqa: E402
from bridge.store.postgres import PostgresDatabase  # noqa: E402
from bridge.store.sql import SQLEventStore  # noqa: E402
from tests import pg  # noqa: E402
from tests.proxy import PROXY_ADDRESS, Nginx, ServeProcess, free_port  # noqa: E402

CLIENTS, PROCESSES = 16, 4
TARGET = 1.6


def instance_ini(folder: Path, name: str, dsn: str, port: int, google: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    ini = folder / f"{name}.ini"
    ini.write_text(
        f"[bridge]\ntimezone = {TZ}\ndata_dir = data\ninstance_name = {name}\n"
        f"base_url = https://127.0.0.1:{port}\n"
        f"[store]\nbackend = postgresql\ndsn = {dsn}\n"
        f"[web]\nport = 0\ntrusted_proxies = {PROXY_ADDRESS}\n"
        f"[caldav]\nport = 0\nbase_url = https://127.0.0.1:{port}/caldav\n"
        "service_user = ipoint-mirror\nservice_password = mirror-secret\n"
        f"[calendar:{USER}]\nname = Chris\n" + google
    )
    return ini


def _client(args: tuple[int, str, str, float, int]) -> int:
    """One process of ``threads`` clients, each on its own kept-alive TLS connection."""
    port, cafile, body, seconds, threads = args
    auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    headers = {
        "Authorization": auth,
        "Depth": "1",
        "Content-Type": "application/xml; charset=utf-8",
        "Accept-Encoding": "gzip",
    }
    context = ssl.create_default_context(cafile=cafile)
    counts = [0] * threads
    deadline = time.monotonic() + seconds

    def run(i: int) -> None:
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=120)
        try:
            while time.monotonic() < deadline:
                conn.request("REPORT", f"/caldav/{USER}/ipoint/", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 207:
                    raise RuntimeError(f"REPORT answered {response.status}")
                counts[i] += 1
        finally:
            conn.close()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(counts)


def _cpu(groups: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds used so far by each group of processes (and their children)."""
    out: dict[str, float] = {}
    for name, pids in groups.items():
        total = 0.0
        for pid in pids:
            try:
                proc = psutil.Process(pid)
                for p in [proc, *proc.children(recursive=True)]:
                    times = p.cpu_times()
                    total += times.user + times.system
            except psutil.Error:
                continue
        out[name] = total
    return out


WRK_SCRIPT = """wrk.method = "REPORT"
wrk.body = {body}
wrk.headers["Authorization"] = {auth}
wrk.headers["Depth"] = "1"
wrk.headers["Content-Type"] = "application/xml; charset=utf-8"
wrk.headers["Accept-Encoding"] = "gzip"
"""


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _wrk(nginx: Nginx, script: Path, seconds: float) -> tuple[int, int, float]:
    """(REPORTs answered, answers that were not 2xx/3xx, wrk's own CPU seconds)."""
    proc = subprocess.Popen(
        [
            "wrk",
            "-t2",
            f"-c{CLIENTS}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "60s",
            "-s",
            str(script),
            f"https://127.0.0.1:{nginx.port}/caldav/{USER}/ipoint/",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed: {out}")
    done = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return done, int(bad.group(1)) if bad else 0, usage.ru_utime + usage.ru_stime


def throughput_wrk(
    nginx: Nginx, body: str, seconds: float, groups: dict[str, list[int]]
) -> tuple[float, dict[str, float]]:
    """As ``throughput``, with wrk (C, epoll, kept-alive TLS connections) as the 16 clients: a
    load generator that costs the shared cores little, so the ratio measures the bridge rather
    than the Python clients' own CPU (which took about a quarter of the machine)."""
    auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    script = nginx.folder / "report.lua"
    script.write_text(WRK_SCRIPT.format(body=_lua_string(body), auth=_lua_string(auth)))
    _wrk(nginx, script, 2.0)  # warm-up: logins cached, connections made
    before = _cpu(groups)
    began = time.monotonic()
    done, bad, client_cpu = _wrk(nginx, script, seconds)
    elapsed = time.monotonic() - began
    after = _cpu(groups)
    if bad:
        raise RuntimeError(f"{bad} REPORTs were not answered 207")
    per = {k: 1000 * (after[k] - before[k]) / max(done, 1) for k in groups}
    per["clients"] = 1000 * client_cpu / max(done, 1)
    return done / elapsed, per


def throughput(
    nginx: Nginx, body: str, seconds: float, groups: dict[str, list[int]]
) -> tuple[float, dict[str, float]]:
    """REPORTs per second of ``CLIENTS`` clients through ``nginx`` (after a warm-up), and the
    CPU milliseconds per REPORT of each process group (where the time goes)."""
    job = (nginx.port, str(nginx.cafile), body, 2.0, CLIENTS // PROCESSES)
    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        pool.map(_client, [job] * PROCESSES)  # warm-up: logins cached, connections made
        groups = {**groups, "clients": [p.pid for p in pool._pool]}  # type: ignore[attr-defined]
        before = _cpu(groups)
        began = time.monotonic()
        done = sum(pool.map(_client, [(*job[:3], seconds, job[4])] * PROCESSES))
        rate = done / (time.monotonic() - began)
        after = _cpu(groups)
    per = {k: 1000 * (after[k] - before[k]) / max(done, 1) for k in groups}
    return rate, per


def _ceiling(rounds: list[dict[str, float]]) -> dict[str, float]:
    """The best ratio this machine allows, from where the CPU goes: one instance answers under
    one GIL (at most 1000 / its ms per REPORT), and every instance, PostgreSQL, nginx and the
    clients share the machine's cores (at most cores * 1000 / all their ms per REPORT)."""
    serve = statistics.median(r["serve a"] + r["serve b"] for r in rounds)
    total = statistics.median(sum(r.values()) for r in rounds)
    cores = float(os.cpu_count() or 1)
    machine = cores * 1000 / total
    one = min(1000 / serve, machine)
    two = min(2000 / serve, machine)
    return {"serve_ms": serve, "total_ms": total, "cores": cores, "ratio": two / one}


def measure_scaling(
    folder: Path,
    server: pg.PostgresServer,
    events: int,
    seconds: float,
    rounds: int,
    client: str = "python",
) -> dict[str, Any]:
    measure = throughput_wrk if client == "wrk" else throughput
    dsn = server.fresh_database("multi_bench")
    port_one, port_two = free_port(), free_port()
    inis = [instance_ini(folder, name, dsn, port_two) for name in ("a", "b")]
    store = SQLEventStore(PostgresDatabase(dsn))
    records = make_records(events)
    for i in range(0, events, 2000):
        store.apply(records[i : i + 2000])
    store.close()
    set_password(folder / "data" / "users.htpasswd", USER, PASSWORD)
    body = REPORT.format(*week_range(events))
    one, two = [], []
    with ServeProcess(inis[0]) as a, ServeProcess(inis[1]) as b:
        single = Nginx(
            folder / "nginx-one",
            web=[a.address("web")],
            caldav=[a.address("caldav")],
            port=port_one,
        )
        both = Nginx(
            folder / "nginx-two",
            web=[a.address("web"), b.address("web")],
            caldav=[a.address("caldav"), b.address("caldav")],
            port=port_two,
        )
        with single, both:
            groups = {
                "serve a": [a.proc.pid],
                "serve b": [b.proc.pid],
                "postgresql": _postgres_pids(server),
                "nginx": [
                    p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == "nginx"
                ],
            }
            cpu: dict[str, list[dict[str, float]]] = {"one": [], "two": []}
            for r in range(rounds):  # alternate, so drift hits both sides alike
                rate, per = measure(single, body, seconds, groups)
                one.append(rate)
                cpu["one"].append(per)
                rate, per = measure(both, body, seconds, groups)
                two.append(rate)
                cpu["two"].append(per)
                print(
                    f"  round {r + 1}: one {one[-1]:.1f}/s, two {two[-1]:.1f}/s; CPU ms per "
                    "REPORT (two): "
                    + ", ".join(f"{k} {v:.1f}" for k, v in per.items())
                    + f"; load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
    return {
        "ceiling": _ceiling(cpu["two"]),
        "cpu_ms_per_report": cpu,
        "load_average": os.getloadavg(),
        "events": events,
        "client": client,
        "one_instance_rps": statistics.median(one),
        "two_instances_rps": statistics.median(two),
        "ratio": statistics.median(two) / statistics.median(one),
        "rounds": {"one": one, "two": two},
    }


def _postgres_pids(server: pg.PostgresServer) -> list[int]:
    pids = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["name"] == "postgres" and str(server.dir) in cmdline:
            pids.append(proc.pid)
    return pids


def measure_takeover(folder: Path, server: pg.PostgresServer) -> dict[str, Any]:
    from google_emulator.testing import EmulatorThread

    from bridge import config
    from bridge.store.lease import GOOGLE_WRITER, Leases
    from tests.mirror.support import sign_in

    dsn = server.fresh_database("multi_bench_lease")
    with EmulatorThread() as emu:
        google = (
            f"[google]\nenabled = yes\napi_endpoint = {emu.base_url}\n"
            f"token_uri = {emu.base_url}/token\n[mirror]\ninterval_seconds = 0.5\n"
        )
        inis = [instance_ini(folder, f"lease-{n}", dsn, free_port(), google) for n in "ab"]
        sign_in(emu, config.load(inis[0]))
        db = PostgresDatabase(dsn)

        def holder() -> str:
            lease = Leases(db).current(GOOGLE_WRITER)
            return lease.holder if lease is not None and lease.live else ""

        try:
            with ServeProcess(inis[0]) as a:
                deadline = time.monotonic() + 60
                while holder() != "lease-a" and time.monotonic() < deadline:
                    time.sleep(0.1)
                with ServeProcess(inis[1]):
                    time.sleep(2)
                    a.proc.send_signal(signal.SIGKILL)
                    killed = time.monotonic()
                    while holder() != "lease-b" and time.monotonic() - killed < 60:
                        time.sleep(0.05)
                    took = time.monotonic() - killed
        finally:
            db.close()
    return {"lease_seconds": 20.0, "takeover_s": took, "limit_s": 30.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer events, shorter rounds")
    parser.add_argument(
        "--client",
        choices=("wrk", "python"),
        default="wrk" if shutil.which("wrk") else "python",
        help="load generator: wrk (Debian's package; the default where installed) or Python "
        "threads in 4 processes",
    )
    args = parser.parse_args()
    events, seconds, rounds = (2000, 5.0, 2) if args.quick else (10000, 10.0, 3)
    server = pg.PostgresServer().start()
    try:
        with tempfile.TemporaryDirectory(prefix="multi-bench-") as tmp:
            print(
                f"{events} events, {CLIENTS} clients ({args.client}), 1-week REPORT through nginx",
                flush=True,
            )
            scaling = measure_scaling(
                Path(tmp) / "scale", server, events, seconds, rounds, args.client
            )
            print("Google writer's lease takeover after kill -9", flush=True)
            takeover = measure_takeover(Path(tmp) / "lease", server)
    finally:
        server.stop()
    ok = scaling["ratio"] >= TARGET and takeover["takeover_s"] <= takeover["limit_s"]
    print(
        f"\none instance (anchor): {scaling['one_instance_rps']:.1f} REPORT/s\n"
        f"two instances:         {scaling['two_instances_rps']:.1f} REPORT/s  "
        f"ratio {scaling['ratio']:.2f} (target >= {TARGET})\n"
        f"this machine's ceiling for the ratio: {scaling['ceiling']['ratio']:.2f} "
        f"({scaling['ceiling']['serve_ms']:.1f} of {scaling['ceiling']['total_ms']:.1f} CPU ms "
        f"per REPORT in the bridge, {scaling['ceiling']['cores']:.0f} cores for everything)\n"
        f"lease takeover after kill -9: {takeover['takeover_s']:.1f} s (limit 30 s)\n"
        f"{'PASS' if ok else 'FAIL'}"
    )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"multi-instance-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.json"
    path.write_text(
        json.dumps({"quick": args.quick, "scaling": scaling, "takeover": takeover}, indent=2)
    )
    print(f"wrote {path.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
