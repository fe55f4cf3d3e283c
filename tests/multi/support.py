"""Several ``serve`` processes on one PostgreSQL store and one data folder, mirroring into the
Google emulator: configs, the lease as the store sees it, Google's calendars as the emulator
holds them."""

from __future__ import annotations

import base64
import time
from collections import Counter
from pathlib import Path
from typing import Any

from google_emulator.testing import EmulatorThread

from bridge import config
from bridge.caldav import set_password
from bridge.store.lease import GOOGLE_WRITER, Lease, Leases
from bridge.store.postgres import PostgresDatabase
from tests.admin.support import PASSWORD_HASH
from tests.mirror.support import sign_in
from tests.proxy import PROXY_ADDRESS

TOKEN = "ingest-token-for-multi-instance-tests"
TECH_PASSWORD = "tech-caldav-pw"
TECHS = ("chris", "sam", "dana")


def instance_ini(
    folder: Path,
    name: str,
    dsn: str,
    emulator: EmulatorThread,
    *,
    base_url: str = "http://127.0.0.1:8080",
    rate: int = 60000,
    batch: int = 50,
    extra: str = "",
) -> Path:
    """The config of instance ``name``: every instance shares ``folder/data`` and the store."""
    ini = folder / f"{name}.ini"
    ini.write_text(
        f"[bridge]\ntimezone = America/Chicago\ndata_dir = data\nbase_url = {base_url}\n"
        f"instance_name = {name}\n"
        f"[store]\nbackend = postgresql\ndsn = {dsn}\n"
        f"[web]\nport = 0\ningest_token = {TOKEN}\ntrusted_proxies = {PROXY_ADDRESS}\n"
        "[caldav]\nport = 0\nservice_user = ipoint-mirror\nservice_password = mirror-secret\n"
        f"[admin]\nusername = admin\npassword_hash = {PASSWORD_HASH}\n"
        "[google]\nenabled = yes\n"
        f"api_endpoint = {emulator.base_url}\ntoken_uri = {emulator.base_url}/token\n"
        f"rate_per_minute = {rate}\nbatch_size = {batch}\n"
        "[mirror]\ninterval_seconds = 0.2\n" + extra
    )
    settings = config.load(ini)
    sign_in(emulator, settings)  # the credentials file in the shared data folder
    for tech in TECHS:
        set_password(settings.data_path(settings.caldav.htpasswd), tech, TECH_PASSWORD, rounds=4)
    return ini


def basic(login: str = "chris") -> dict[str, str]:
    raw = base64.b64encode(f"{login}:{TECH_PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def writer(dsn: str) -> Lease | None:
    db = PostgresDatabase(dsn)
    try:
        return Leases(db).current(GOOGLE_WRITER)
    finally:
        db.close()


def wait_for_writer(dsn: str, name: str, timeout: float) -> float:
    """Seconds until ``name`` holds the Google writer's lease (AssertionError after timeout)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        lease = writer(dsn)
        if lease is not None and lease.live and lease.holder == name:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"{name} did not take the Google writer's lease within {timeout}s")


def google_calendars(emulator: EmulatorThread) -> list[dict[str, Any]]:
    return list(emulator.control("GET", "snapshot")["calendars"])


def google_events(emulator: EmulatorThread) -> dict[str, list[str]]:
    """Calendar summary -> summaries of its live events (duplicates kept)."""
    out: dict[str, list[str]] = {}
    for cal in google_calendars(emulator):
        summary = str(cal["calendar"].get("summary", ""))
        live = [str(e.get("summary", "")) for e in cal["events"] if e.get("status") != "cancelled"]
        out.setdefault(summary, []).extend(live)
    return out


def duplicates(items: list[str]) -> list[str]:
    return [k for k, n in Counter(items).items() if n > 1]
