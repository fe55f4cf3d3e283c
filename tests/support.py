"""Test support shared by every suite: real servers on loopback ports, configs, the CLI."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from aiohttp import web

from bridge.records import EventRecord
from bridge.validate import validate_record

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "bridge"]


class ServerThread:
    """Runs an aiohttp application on 127.0.0.1 in its own thread and loop: on port 0, or on
    ``sock`` when the caller bound one first (to know the address before building the app)."""

    def __init__(self, app: web.Application, sock: socket.socket | None = None) -> None:
        self.app = app
        self.url = ""
        self._sock = sock
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="test-web")

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())
        self._loop.close()

    async def _main(self) -> None:
        runner = web.AppRunner(self.app, access_log=None)
        try:
            await runner.setup()
            if self._sock is not None:
                await web.SockSite(runner, self._sock).start()
                port = self._sock.getsockname()[1]
            else:
                site = web.TCPSite(runner, "127.0.0.1", 0)
                await site.start()
                port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.url = f"http://127.0.0.1:{port}"
            self._stop = asyncio.Event()
        except BaseException as exc:  # surface start-up failures to the test
            self._error = exc
            self._ready.set()
            raise
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the server's loop (for async state such as jobs)."""

        async def wrapper() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(wrapper(), self._loop).result(30)

    def __enter__(self) -> Self:
        self._thread.start()
        self._ready.wait(30)
        if self._error:
            raise self._error
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        if self._sock is not None:
            self._sock.close()


@dataclass
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    method: str,
    url: str,
    body: bytes | str | Any | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> Answer:
    """One real HTTP request; any status is returned, never raised."""
    data: bytes | None
    if body is None or isinstance(body, bytes):
        data = body
    elif isinstance(body, str):
        data = body.encode()
    else:
        data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as err:
        return Answer(err.code, dict(err.headers), err.read())


def record(
    id: str, user: str = "chris", *, timezone: str = "America/Chicago", **fields: Any
) -> EventRecord:
    """A validated record (a one-hour job on 2026-12-01 unless ``fields`` say otherwise)."""
    raw: dict[str, Any] = {
        "id": id,
        "user": user,
        "title": f"Job {id}",
        "start": "2026-12-01T09:00",
        "end": "2026-12-01T10:00",
    }
    raw.update(fields)
    rec, problems = validate_record(raw, timezone)
    assert rec is not None, problems
    return rec


def write_config(folder: Path, text: str = "", *, timezone: str = "America/Chicago") -> Path:
    """A minimal config in ``folder`` plus ``text`` (extra sections)."""
    path = folder / "bridge.ini"
    base = f"[bridge]\ntimezone = {timezone}\ndata_dir = data\n"
    path.write_text(base + text, encoding="utf-8")
    return path


def run_cli(
    *args: str, cwd: Path | None = None, input: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``ipoint-bridge`` as a subprocess (host zone forced to something odd on purpose)."""
    env = {**os.environ, "TZ": "Asia/Kathmandu", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def run_in_pty(
    argv: list[str], env: Mapping[str, str], answers: tuple[str, ...] = (), timeout: float = 120
) -> tuple[int, str]:
    """Run ``argv`` on a real terminal (a pty, 100 columns): each of ``answers`` is typed when
    the program's output since the last answer ends with a prompt (``:``). Returns the exit
    code and everything the terminal showed."""
    import fcntl
    import pty
    import select
    import struct
    import termios
    import time

    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execvpe(argv[0], argv, dict(env))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    out = b""
    answered_up_to = 0
    pending = list(answers)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
        if pending and out[answered_up_to:].rstrip().endswith(b":"):
            os.write(fd, pending.pop(0).encode() + b"\n")
            answered_up_to = len(out)
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def wait_for(
    check: Callable[[], Any], what: str, timeout: float = 30.0, interval: float = 0.2
) -> Any:
    """Poll ``check`` every ``interval`` seconds until it returns something true (bounded by
    ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def serve_cli(config: Path, *, umask: int | None = None) -> Iterator[dict[str, str]]:
    """``ipoint-bridge -c config serve`` as a subprocess until it prints ``ready``; yields the
    URLs it announced (``web``, ``caldav``...); stopped by SIGTERM, which must end it cleanly.

    Args:
        umask: the umask the process starts with (the CLI sets its own).
    """
    env = {**os.environ, "TZ": "Asia/Kathmandu", "PYTHONPATH": str(ROOT)}

    def set_umask() -> None:
        if umask is not None:
            os.umask(umask)

    proc = subprocess.Popen(
        [*CLI, "-c", str(config), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=set_umask,
    )
    urls: dict[str, str] = {}
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            name, _, value = line.strip().partition(": ")
            if value:
                urls[name] = value
            if line.strip() == "ready":
                break
        assert "web" in urls, proc.stderr.read() if proc.stderr else ""
        yield urls
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        assert code == 0, "serve did not stop cleanly on SIGTERM"
