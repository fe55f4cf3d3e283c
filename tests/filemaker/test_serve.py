"""``ipoint-bridge serve`` (a subprocess) reading FileMaker sources from the emulator over real
HTTP: a change in FileMaker visible over CalDAV within poll_seconds + 2 s, a webhook read, and
every failure (wrong password, missing layout and field, unreachable server, a refused mass
deletion) kept serving and named in /readyz, /metrics and on the admin page."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from filemaker_emulator.testing import EmulatorThread

from bridge.caldav.htpasswd import set_password
from tests.admin.support import PASSWORD_HASH, Client
from tests.filemaker.fmdata import DataSession
from tests.filemaker.support import (
    TOKEN,
    events_ini,
    load_work_orders,
    work_orders_ini,
    write_ini,
)
from tests.support import CLI, ROOT, http, run_cli
from tests.support import wait_for as shared_wait_for

POLL_SECONDS = 1.0
TECH_PW = "chris-caldav-pw"


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Polled often: these tests time how soon a change shows."""
    return shared_wait_for(check, what, timeout, interval=0.05)


def caldav_summary(base: str, user: str, event_id: str) -> str | None:
    basic = base64.b64encode(f"{user}:{TECH_PW}".encode()).decode()
    answer = http(
        "GET", f"{base}/{user}/ipoint/{event_id}.ics", headers={"Authorization": f"Basic {basic}"}
    )
    if answer.status != 200:
        return None
    for line in answer.body.decode().splitlines():
        if line.startswith("SUMMARY:"):
            return line[len("SUMMARY:") :]
    return None


@pytest.fixture
def fm() -> Iterator[EmulatorThread]:
    with EmulatorThread() as emu:
        yield emu


@pytest.fixture
def bridge(fm: EmulatorThread, tmp_path: Path) -> Iterator[dict[str, str]]:
    load_work_orders(fm, 40)
    fm.load(
        "Events",
        [
            {
                "Event ID": "700",
                "Event Name": "Team meeting",
                "Organizer Login": "chris",
                "Start": "12/07/2026 07:30:00",
                "End": "12/07/2026 08:00:00",
            }
        ],
    )
    url = fm.base_url
    broken = (
        work_orders_ini(url, password="wrong-password")
        .replace("[filemaker:workorders]", "[filemaker:badpassword]")
        .replace("WO-", "BP-")
        + work_orders_ini(url)
        .replace("[filemaker:workorders]", "[filemaker:nolayout]")
        .replace("layout = Bridge Work Orders", "layout = Bridge Jobs")
        .replace("WO-", "NL-")
        + work_orders_ini(url)
        .replace("[filemaker:workorders]", "[filemaker:nofield]")
        .replace("field.customer = Customer", "field.customer = Client Name")
        .replace("WO-", "NF-")
        + work_orders_ini("http://127.0.0.1:9")
        .replace("[filemaker:workorders]", "[filemaker:away]")
        .replace("WO-", "AW-")
    )
    ini = write_ini(
        tmp_path,
        work_orders_ini(url)
        + events_ini(url).replace("poll_seconds = 1", "poll_seconds = 3600")
        + broken,
        head=f"[web]\nport = 0\ningest_token = {TOKEN}\n[caldav]\nport = 0\n"
        f"[admin]\npassword_hash = {PASSWORD_HASH}\n",
    )
    set_password(tmp_path / "data" / "users.htpasswd", "chris", TECH_PW, rounds=4)
    # a first read by hand, then half the work orders deleted while the bridge is down
    done = run_cli("-c", str(ini), "filemaker", "sync", "workorders", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "read 40, wrote 40, skipped 0" in done.stdout
    with DataSession(url) as s:
        for n in range(1, 21):
            s.delete_by_key("Bridge Work Orders", "Work Order ID", str(n))
    env = {**os.environ, "TZ": "Asia/Kathmandu", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [*CLI, "-c", str(ini), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    urls: dict[str, str] = {}
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            name, _, value = line.strip().partition(": ")
            if value:
                urls[name] = value
            if line.strip() == "ready":
                break
        assert "web" in urls and "caldav" in urls, urls
        yield urls
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "wrong-password" not in err and TOKEN not in err


def readyz(web: str) -> dict[str, Any]:
    result: dict[str, Any] = http("GET", f"{web}/readyz").json()
    return result


def test_serve_reads_filemaker_and_names_every_failure(
    bridge: dict[str, str], fm: EmulatorThread
) -> None:
    web, caldav = bridge["web"], bridge["caldav"]
    # the sources that work keep the calendars filled
    assert (
        wait_for(lambda: caldav_summary(caldav, "chris", "WO-30"), "WO-30 over CalDAV") == "Job 30"
    )

    # a change in FileMaker reaches CalDAV within poll_seconds + 2 s
    with DataSession(fm.base_url) as s:
        started = time.monotonic()
        s.edit_by_key(
            "Bridge Work Orders", "Work Order ID", "30", {"Work Order Name": "Moved to Friday"}
        )
    wait_for(
        lambda: caldav_summary(caldav, "chris", "WO-30") == "Moved to Friday",
        "the change",
        POLL_SECONDS + 2,
    )
    assert time.monotonic() - started <= POLL_SECONDS + 2

    # every failure named, per source, while /readyz stays ready (the bridge serves what it has)
    checks = wait_for(
        lambda: (
            (r := readyz(web))["parts"].get("filemaker:away", {}).get("state", "starting")
            != "starting"
            and r["parts"]
        ),
        "the failing sources' first turn",
    )
    assert checks["filemaker:workorders"] == {"ok": True, "state": "ok", "required": False}
    checks = {name: part["state"] for name, part in checks.items()}
    assert "wrong username or password" in checks["filemaker:badpassword"]
    assert "(105)" in checks["filemaker:nolayout"] and "layout" in checks["filemaker:nolayout"]
    assert "'Client Name'" in checks["filemaker:nofield"] and "(102)" in checks["filemaker:nofield"]
    assert "Work Order Name" in checks["filemaker:nofield"]  # the fields the layout has
    assert "does not answer" in checks["filemaker:away"]
    assert readyz(web)["ready"] is True

    refused = 'ipoint_bridge_filemaker_deletion_refused{source="workorders"} 1'

    def scanned() -> str | None:
        text = http("GET", f"{web}/metrics").body.decode()
        return text if refused in text else None

    metrics = wait_for(scanned, "the deletion scan (beside the polls)")
    assert 'ipoint_bridge_filemaker_up{source="workorders"} 1' in metrics
    assert 'ipoint_bridge_filemaker_up{source="badpassword"} 0' in metrics

    # 20 of 40 deleted while the bridge was down: refused, shown, nothing deleted
    assert caldav_summary(caldav, "chris", "WO-3") == "Job 3"
    admin = Client(web)
    assert admin.login().status == 303
    page = admin.get("/admin").text
    assert 'id="fm-workorders"' in page and "refused to delete 20 of 40" in page
    assert "wrong username or password" in page and "Client Name" in page
    assert "wrong-password" not in page


def test_webhook_reads_now_and_checks_its_token(bridge: dict[str, str], fm: EmulatorThread) -> None:
    web, caldav = bridge["web"], bridge["caldav"]
    wait_for(lambda: caldav_summary(caldav, "chris", "EV-700"), "EV-700 over CalDAV")
    fm.load(
        "Events",
        [
            {
                "Event ID": "701",
                "Event Name": "Webhook meeting",
                "Organizer Login": "chris",
                "Start": "12/08/2026 07:30:00",
                "End": "12/08/2026 08:00:00",
            }
        ],
    )
    hook = f"{web}/api/v1/filemaker/events/webhook"
    assert http("POST", hook, {"Event ID": "701"}).status == 401
    assert http("POST", hook, {"x": "y"}, {"Authorization": "Bearer nope"}).status == 401
    # a body nested past [ingest] max_json_depth is refused with the reason, never a 500
    deep = http("POST", hook, b"[" * 100_000, {"Authorization": f"Bearer {TOKEN}"})
    assert deep.status == 400 and b"nested deeper" in deep.body, deep.body
    big = {"pad": "x" * (300 * 1024)}
    assert http("POST", hook, big, {"Authorization": f"Bearer {TOKEN}"}).status == 413
    assert (
        http(
            "POST",
            f"{web}/api/v1/filemaker/nosuch/webhook",
            {},
            {"Authorization": f"Bearer {TOKEN}"},
        ).status
        == 404
    )
    # poll_seconds is an hour for [filemaker:events]: only the webhook can bring it in now
    payload = {"value": [{"Event ID": "701", "Event Name": "Webhook meeting"}]}
    answer = http("POST", hook, payload, {"Authorization": f"Bearer {TOKEN}"})
    assert answer.status == 202 and answer.json()["keys"] == 1
    assert (
        wait_for(lambda: caldav_summary(caldav, "chris", "EV-701"), "EV-701", 10)
        == "Webhook meeting"
    )
