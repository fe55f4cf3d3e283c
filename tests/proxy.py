"""A real nginx terminating TLS in front of bridge processes, for tests: Debian's nginx started
by the test (no root needed) with a config in a temporary folder, a self-signed certificate
the test makes, and the shipped recipe's locations (``deploy/nginx/ipoint-bridge-locations.conf``)
included as they are, so the tests exercise the recipe an admin copies.

nginx connects upstream from ``PROXY_ADDRESS`` (127.0.0.3, ``proxy_bind``), so the bridge can
tell the proxy apart from clients on 127.0.0.1 or 127.0.0.2: that address is what
``[web] trusted_proxies`` must name. Also: ``serve`` as a subprocess (``ServeProcess``).
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from tests.support import CLI, ROOT

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
LOCATIONS = ROOT / "deploy" / "nginx" / "ipoint-bridge-locations.conf"
PROXY_ADDRESS = "127.0.0.3"
"""The address nginx connects to the bridge from (put it in ``[web] trusted_proxies``)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_certificate(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed certificate for ``host`` (an IP address): (certificate, key) PEM files."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", f"/CN={host}", "-addext", f"subjectAltName=IP:{host}",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _upstream(name: str, servers: Sequence[str]) -> str:
    lines = "".join(f"        server {s.removeprefix('http://')};\n" for s in servers)
    return f"    upstream {name} {{\n{lines}    }}\n"


def nginx_conf(
    folder: Path,
    port: int,
    web: Sequence[str],
    caldav: Sequence[str],
    cert: Path,
    key: Path,
    extra_server: str = "",
) -> str:
    """nginx.conf for a test: everything nginx writes stays in ``folder``."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers need the folder (0700)
    temps = "".join(
        f"    {kind}_temp_path {folder / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}worker_processes 1;\n"
        f"pid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} info;\n"
        "events { worker_connections 512; }\n"
        "http {\n"
        f"    access_log {folder / 'access.log'};\n"
        f"{temps}"
        + _upstream("ipoint_bridge_web", web)
        + _upstream("ipoint_bridge_caldav", caldav)
        + "    server {\n"
        f"        listen 127.0.0.1:{port} ssl;\n"
        f"        ssl_certificate {cert};\n"
        f"        ssl_certificate_key {key};\n"
        f"        proxy_bind {PROXY_ADDRESS};\n"
        f"{extra_server}"
        f"        include {LOCATIONS};\n"
        "    }\n"
        "}\n"
    )


class Nginx:
    """nginx on ``https://127.0.0.1:PORT`` in front of the given web and CalDAV servers (each a
    list, round-robin, for several bridge instances). ``port`` 0: a free one, picked here."""

    def __init__(
        self,
        folder: Path,
        *,
        web: Sequence[str],
        caldav: Sequence[str],
        port: int = 0,
        extra_server: str = "",
    ) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.cafile, key = make_certificate(folder)
        self.conf = folder / "nginx.conf"
        self.conf.write_text(
            nginx_conf(folder, self.port, web, caldav, self.cafile, key, extra_server)
        )
        self._proc: subprocess.Popen[bytes] | None = None

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cafile))

    def __enter__(self) -> Self:
        args = [NGINX, "-p", str(self.folder), "-e", str(self.folder / "error.log")]
        args += ["-c", str(self.conf), "-g", "daemon off;"]
        check = subprocess.run([*args, "-t"], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode() if self._proc.stderr else ""
                raise AssertionError(f"nginx exited: {err}{self.error_log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.__exit__()
        raise AssertionError("nginx did not listen within 15 s")

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)  # fast shutdown of master and workers
            try:
                self._proc.wait(15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        source: str = "127.0.0.1",
    ) -> tuple[int, dict[str, str], bytes]:
        """One https request through nginx from the local address ``source`` (any 127.x)."""
        conn = http.client.HTTPSConnection(
            "127.0.0.1",
            self.port,
            context=self.ssl_context(),
            timeout=30,
            source_address=(source, 0),
        )
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}))
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()


@dataclass
class ServeProcess:
    """``ipoint-bridge -c CONFIG serve`` as a subprocess; ``urls`` holds what it printed
    (``web``, ``caldav``) once it said ``ready``."""

    config: Path
    env: Mapping[str, str] | None = None
    timeout: float = 60

    def __enter__(self) -> Self:
        env = {**os.environ, "TZ": "Asia/Kathmandu", "PYTHONPATH": str(ROOT), **(self.env or {})}
        # The log goes to a file: a pipe nobody reads would block a chatty server.
        self.log = self.config.with_name(f"serve-{id(self)}.log")
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [*CLI, "-c", str(self.config), "serve"],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env=env,
            )
        self.urls: dict[str, str] = {}
        assert self.proc.stdout is not None
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            name, _, value = line.strip().partition(": ")
            if value:
                self.urls[name] = value
            if line.strip() == "ready":
                return self
        self.stop()
        raise AssertionError(f"serve did not start: {self.stderr()}")

    def address(self, name: str) -> str:
        """``host:port`` of the ``web`` or ``caldav`` server (an nginx upstream)."""
        return self.urls[name].split("://", 1)[1].split("/", 1)[0]

    def stderr(self) -> str:
        """What the server logged so far."""
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return int(self.proc.returncode)

    def __exit__(self, *exc: object) -> None:
        self.stop()


CADDY = shutil.which("caddy") or "/usr/bin/caddy"
CADDYFILE = ROOT / "deploy" / "caddy" / "Caddyfile"


class Caddy:
    """Debian's Caddy running the shipped Caddyfile on ``https://127.0.0.1:PORT``, with its own
    local certificate authority (``tls internal``) kept in ``folder``; ``cafile`` is its root."""

    def __init__(self, folder: Path, *, web: str, caldav: str) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        site = CADDYFILE.read_text()
        site = site.replace("calendar.example.com {", f"{self.url} {{", 1)
        site = site.replace("reverse_proxy 127.0.0.1:5232", f"reverse_proxy {caldav}")
        site = site.replace("reverse_proxy 127.0.0.1:8080", f"reverse_proxy {web}")
        options = "{\n\tadmin off\n\tskip_install_trust\n\tauto_https disable_redirects\n}\n"
        self.conf = folder / "Caddyfile"
        self.conf.write_text(options + site)
        self.cafile = folder / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
        self._env = {
            **os.environ,
            "HOME": str(folder),
            "XDG_DATA_HOME": str(folder / "data"),
            "XDG_CONFIG_HOME": str(folder / "config"),
        }
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        args = [CADDY, "run", "--config", str(self.conf), "--adapter", "caddyfile"]
        self.log = self.folder / "caddy.log"
        with self.log.open("wb") as log:
            self._proc = subprocess.Popen(args, stdout=log, stderr=log, env=self._env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise AssertionError("caddy exited: " + self.log.read_text(errors="replace"))
            if self.cafile.exists():
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    return self
                except OSError:
                    pass
            time.sleep(0.1)
        self.__exit__()
        raise AssertionError("caddy did not listen within 30 s")

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
