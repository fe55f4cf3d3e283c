"""A real CalDAV server (Radicale with the iPoint plugin) on 127.0.0.1, port 0, per test module.

Logins: chris and dana (technicians), boss (reads chris's calendar: [calendar:chris] readers),
eve (a technician with no grant), and the mirror's service login. bcrypt with few rounds keeps
logins fast; Radicale's failed-login delay is lowered for the same reason.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bridge.caldav import CalDAVHandle, set_password, start_caldav
from bridge.config import Settings, load
from bridge.records import ApplyResult, EventRecord
from bridge.runtime import open_store
from bridge.store import EventStore
from tests.support import Answer, http, write_config
from tests.support import record as record  # re-exported for the caldav tests

TZ = "America/Chicago"
PASSWORD = "secret-pw"
SERVICE = "ipoint-mirror"
SERVICE_PASSWORD = "mirror-pw"
CONFIG = f"""
[caldav]
service_user = {SERVICE}
service_password = {SERVICE_PASSWORD}

[calendar:chris]
name = Chris Miller
readers = boss

[calendar:dana]
"""


def auth(login: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{login}:{password}".encode()).decode()
    return {"Authorization": "Basic " + token}


@dataclass
class Server:
    handle: CalDAVHandle
    settings: Settings
    store: EventStore
    folder: Path

    @property
    def url(self) -> str:
        return self.handle.url

    def apply(self, *records: EventRecord, deletes: tuple[str, ...] = ()) -> ApplyResult:
        return self.store.apply(list(records), list(deletes))

    def request(
        self,
        method: str,
        path: str,
        login: str | None = "chris",
        body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        hdrs = dict(
            auth(login, SERVICE_PASSWORD if login == SERVICE else PASSWORD) if login else {}
        )
        hdrs.update(headers or {})
        return http(method, self.url + path, body=body, headers=hdrs)


@contextmanager
def serving(folder: Path, extra_config: str = "") -> Iterator[Server]:
    """The CalDAV server with the logins above, on the store ``extra_config`` names."""
    settings = load(write_config(folder, CONFIG + extra_config, timezone=TZ))
    htpasswd = settings.data_path(settings.caldav.htpasswd)
    for login in ("chris", "dana", "boss", "eve"):
        set_password(htpasswd, login, PASSWORD, rounds=4)
    set_password(htpasswd, SERVICE, SERVICE_PASSWORD, rounds=4)
    store = open_store(settings)
    handle = start_caldav(
        settings, store=store, port=0, radicale_overrides={"auth": {"delay": "0.001"}}
    )
    try:
        yield Server(handle, settings, store, folder)
    finally:
        handle.stop()
        store.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("caldav")) as running:
        yield running


def sync_report(token: str = "", props: str = "<getetag/>") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<sync-collection xmlns="DAV:">'
        f"<sync-token>{token}</sync-token><sync-level>1</sync-level>"
        f"<prop>{props}</prop></sync-collection>"
    )


def time_range_report(start: str, end: str, data: bool = True) -> str:
    prop = "<C:calendar-data/>" if data else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        f"<D:prop><D:getetag/>{prop}</D:prop>"
        '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
        f'<C:time-range start="{start}" end="{end}"/>'
        "</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"
    )
