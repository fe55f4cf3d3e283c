"""``ipoint-bridge demo``: a working shop with no configuration.

Creates the folder, writes a complete config there (the file a real admin copies and adapts),
the technicians' CalDAV logins, seeds the demo shop, starts a local Google Calendar emulator and
serves everything, printing every URL and login a person needs. Running it again reuses the
folder: same logins, same data, same emulator state.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

import bcrypt

from . import config
from .caldav.htpasswd import set_password
from .demo_data import SUPERVISOR, TECHNICIANS, demo_records
from .files import write_private
from .runtime import open_store
from .serve import announce, run
from .timeutil import zone
from .validate import validate_batch

logger = logging.getLogger(__name__)
TIMEZONE = "America/Chicago"
GOOGLE_ACCOUNT = "owner@demo-shop.example"
CLIENT_ID = "ipoint-bridge-demo.apps.googleusercontent.com"


def _secrets(folder: Path) -> dict[str, Any]:
    """Demo passwords and tokens, made once and kept (0600) so a restart prints the same."""
    path = folder / "demo-logins.json"
    if path.exists():
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    logins = {login: secrets.token_urlsafe(6) for login in [*TECHNICIANS, SUPERVISOR[0]]}
    data = {
        "admin_password": secrets.token_urlsafe(9),
        "ingest_token": secrets.token_urlsafe(24),
        "service_password": secrets.token_urlsafe(18),
        "client_secret": secrets.token_urlsafe(18),
        "logins": logins,
    }
    write_private(path, json.dumps(data, indent=2))
    return data


def _hash(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()


def write_demo_config(folder: Path, web_port: int, caldav_port: int, google_port: int) -> Path:
    """Write (or keep) the demo's bridge.ini and htpasswd; return the config path."""
    folder.mkdir(parents=True, exist_ok=True)
    data = _secrets(folder)
    google = f"http://127.0.0.1:{google_port}"
    supervisor = SUPERVISOR[0]
    calendars = "".join(
        f"\n[calendar:{login}]\nshare_with = {supervisor}@demo-shop.example\n"
        f"readers = {supervisor}\n" + ("public = yes\n" if login == "sam" else "")
        for login in TECHNICIANS
    )
    text = f"""; ipoint-bridge demo configuration, written by `ipoint-bridge demo`.
; Copy it, change the URLs, tokens and passwords, and check it with
;   ipoint-bridge -c bridge.ini check
; Every option is explained by: ipoint-bridge config example

[bridge]
timezone = {TIMEZONE}
data_dir = data
base_url = http://127.0.0.1:{web_port}

[web]
host = 127.0.0.1
port = {web_port}
ingest_token = {data["ingest_token"]}

[caldav]
host = 127.0.0.1
port = {caldav_port}
htpasswd = users.htpasswd
service_user = ipoint-mirror
service_password = {data["service_password"]}

[google]
; A local Google Calendar emulator stands in for Google in the demo.
enabled = yes
api_endpoint = {google}
auth_uri = {google}/o/oauth2/v2/auth
token_uri = {google}/token
revoke_uri = {google}/revoke
client_id = {CLIENT_ID}
client_secret = {data["client_secret"]}

[mirror]
interval_seconds = 1

[admin]
username = admin
password_hash = {_hash(data["admin_password"])}
{calendars}"""
    path = folder / "bridge.ini"
    if not path.exists():
        write_private(path, text)
    settings = config.load(path)
    htpasswd = settings.data_path(settings.caldav.htpasswd)
    if not htpasswd.exists():
        logins = {**data["logins"], settings.caldav.service_user: data["service_password"]}
        for login, password in logins.items():
            set_password(htpasswd, login, password, rounds=10)
    return path


def seed(settings: config.Settings) -> int:
    """Load the demo shop through the normal validation path; returns records written."""
    today = datetime.now(zone(settings.bridge.timezone)).date()
    raws = demo_records(today, settings.bridge.timezone)
    records = validate_batch([(None, r) for r in raws], settings.bridge.timezone)
    store = open_store(settings)
    try:
        result = store.apply(records)
        store.ensure_user(SUPERVISOR[0], SUPERVISOR[1])
    finally:
        store.close()
    return result.count("created") + result.count("updated")


def run_demo(folder: Path, *, web_port: int, caldav_port: int, google_port: int) -> int:
    path = write_demo_config(folder, web_port, caldav_port, google_port)
    settings = config.load(path)
    written = seed(settings)
    data = _secrets(folder)
    emulator: dict[str, Any] = {}

    async def start_emulator() -> None:
        from google_emulator.runner import start_emulator as start

        emulator["handle"] = await start(
            folder / "google-emulator.json",
            port=google_port,
            account=GOOGLE_ACCOUNT,
            client_id=CLIENT_ID,
            client_secret=data["client_secret"],
            redirect_uri=f"{settings.bridge.base_url}/admin/google/callback",
        )
        announce("google emulator", f"http://127.0.0.1:{google_port}")

    def print_guide(web_url: str, caldav_url: str | None) -> None:
        store = open_store(settings)
        try:
            feeds = {login: store.feed_token(login) for login in TECHNICIANS}
        finally:
            store.close()
        print(f"""
ipoint-bridge demo is running ({written} demo records written; shop time zone {TIMEZONE}).

  Config file     {path.resolve()}
  Admin page      {web_url}/admin   login: admin / {data["admin_password"]}
                  Step 1 "Sign in with Google" goes to the local Google emulator
                  (account {GOOGLE_ACCOUNT}); the mirror then fills one calendar per technician.
  CalDAV server   {caldav_url or "(disabled)"}/
                  (Apple Calendar, Thunderbird, DAVx5: this URL and a login below)""")
        for login, pw in data["logins"].items():
            print(f"                  {login} / {pw}")
        print("  Feeds (Outlook 'subscribe from web', Google 'From URL'):")
        for login, token in feeds.items():
            print(f"                  {login}: {web_url}/feeds/{token}.ics")
        print(
            f"""  Push API        curl -X PUT -H 'Authorization: Bearer {data["ingest_token"]}' \\
                    -d '{{"user":"chris","title":"New job",'\\
'"start":"2026-12-01T09:00","end":"2026-12-01T10:00"}}' \\
                    {web_url}/api/v1/events/WO-NEW
  Stop with Ctrl-C. Data stays in {folder.resolve()}.
""",
            flush=True,
        )

    return run(settings, before=start_emulator, announce_extra=print_guide)
