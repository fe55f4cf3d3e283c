"""A real PostgreSQL server for tests: initdb into a temporary folder, loopback port, own
socket folder; run as the ``postgres`` user when the tests run as root (postgres refuses root)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def available() -> bool:
    return _bin("initdb") is not None and _bin("pg_ctl") is not None


class PostgresServer:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="bridge-pg-"))
        self.port = 0
        self.dsn = ""
        self._as: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> PostgresServer:
        data = self.dir / "data"
        initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
        assert initdb and pg_ctl
        self._run(initdb, "-D", str(data), "-U", "bridge", "--auth=trust", "-E", "UTF8")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} "
            "-c fsync=off -c synchronous_commit=off"
        )
        self._run(pg_ctl, "-D", str(data), "-o", opts, "-l", str(self.dir / "log"), "-w", "start")
        self.dsn = f"postgresql://bridge@127.0.0.1:{self.port}/postgres"
        return self

    def fresh_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://bridge@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        pg_ctl = _bin("pg_ctl")
        if pg_ctl and (self.dir / "data").exists():
            subprocess.run(
                [*self._as, pg_ctl, "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop"],
                capture_output=True,
                timeout=60,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                shutil.rmtree(self.dir)
                break
            except OSError:
                time.sleep(0.2)
