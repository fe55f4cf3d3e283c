"""A FileMaker source read into a real SQLite store from the emulator over real HTTP: the first
load through pages, resuming from the kept position, changes, sessions that expire, records that
cannot be read, DST wall times, portal attendees, deletions and the mass-deletion valve."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from filemaker_emulator.ipoint_file import IPOINT_FILE
from filemaker_emulator.model import FieldSpec
from filemaker_emulator.state import EmulatorSettings
from filemaker_emulator.testing import EmulatorThread

from bridge.errors import SafetyValveError
from bridge.filemaker.errors import LoginFailed
from bridge.filemaker.poller import SourcePoller
from bridge.filemaker.state import live_ids
from bridge.records import from_json_dict
from tests.filemaker.fmdata import DataSession
from tests.filemaker.support import (
    events_ini,
    load_work_orders,
    opened,
    requests_total,
    with_poller,
    work_order,
    work_orders_ini,
    write_ini,
)


@pytest.fixture
def fm() -> Iterator[EmulatorThread]:
    with EmulatorThread() as emu:
        yield emu


def _ids(store: Any, prefix: str) -> set[str]:
    return set(live_ids(store, prefix))


def _record(store: Any, event_id: str) -> Any:
    stored = store.get(event_id)
    assert stored is not None, event_id
    return from_json_dict(json.loads(stored.data))


def test_first_load_pages_then_restart_resumes_with_one_request(
    fm: EmulatorThread, tmp_path: Path
) -> None:
    load_work_orders(fm, 3200)
    ini = write_ini(tmp_path, work_orders_ini(fm.base_url))
    with opened(ini) as (settings, store):
        first = with_poller(settings, store, "workorders", lambda p: p.poll())
        assert first.read == 3200 and first.written == 3200 and first.skipped == 0
        assert first.requests >= 5  # a login and at least four pages of 1,000
        assert len(_ids(store, "WO-")) == 3200
        # a new process: a new session, the position from the store
        before = requests_total(fm)
        again = with_poller(settings, store, "workorders", lambda p: p.poll())
        assert (again.read, again.written) == (0, 0)
        assert requests_total(fm) - before <= 3  # login, one find, logout
        assert again.requests <= 2


def test_a_change_is_read_and_an_idle_poll_costs_one_find(
    fm: EmulatorThread, tmp_path: Path
) -> None:
    load_work_orders(fm, 300)
    ini = write_ini(tmp_path, work_orders_ini(fm.base_url))
    with opened(ini) as (settings, store):

        async def scenario(p: SourcePoller) -> tuple[Any, Any, Any]:
            await p.poll()
            idle = await p.poll()
            fm.advance(3)
            fm.load(
                "Work Orders",
                [
                    work_order(
                        9001, dt.date(2026, 12, 24), **{"Work Order Name": "Christmas Eve call"}
                    )
                ],
            )
            changed = await p.poll()
            idle_again = await p.poll()
            return idle, changed, idle_again

        idle, changed, idle_again = with_poller(settings, store, "workorders", scenario)
        assert idle.requests == 1 and idle.written == 0
        assert changed.written == 1
        assert idle_again.requests == 1 and idle_again.written == 0
        assert _record(store, "WO-9001").title == "Christmas Eve call"


def test_expired_token_logs_in_again_once(fm: EmulatorThread, tmp_path: Path) -> None:
    load_work_orders(fm, 50)
    ini = write_ini(tmp_path, work_orders_ini(fm.base_url))
    with opened(ini) as (settings, store):

        async def scenario(p: SourcePoller) -> Any:
            await p.poll()
            assert fm.expire_tokens() >= 1
            return await p.poll()

        after = with_poller(settings, store, "workorders", scenario)
        assert after.requests == 3  # the refused find (952), a login, the find again
        assert fm.stats()["requests"].get("POST /fmi/data/vLatest/databases/iPoint/sessions") == 2


def test_wrong_password_is_named(fm: EmulatorThread, tmp_path: Path) -> None:
    ini = write_ini(tmp_path, work_orders_ini(fm.base_url, password="not-the-password"))
    with opened(ini) as (settings, store):
        with pytest.raises(LoginFailed) as info:
            with_poller(settings, store, "workorders", lambda p: p.poll())
        assert info.value.code == "212"
        assert "not-the-password" not in str(info.value)


def test_bad_records_are_skipped_while_the_rest_arrive(fm: EmulatorThread, tmp_path: Path) -> None:
    day = dt.date(2026, 12, 2)
    fm.load(
        "Work Orders",
        [
            work_order(1, day),
            work_order(2, day, **{"Technician Login": "Chris Miller"}),  # not a login
            work_order(3, day, Notes="x" * 20001),  # longer than the ingest limit
            work_order(4, day),
        ],
    )
    ini = write_ini(tmp_path, work_orders_ini(fm.base_url))
    with opened(ini) as (settings, store):

        async def scenario(p: SourcePoller) -> Any:
            result = await p.poll()
            return result, p.status.newest_skips()

        result, skips = with_poller(settings, store, "workorders", scenario)
        assert result.written == 2 and result.skipped == 2
        assert _ids(store, "WO-") == {"WO-1", "WO-4"}
        reasons = {(s.key, (s.field or "").split(" ")[0]) for s in skips}
        assert ("WO-2", "user") in reasons
        assert ("WO-3", "description") in reasons

        # fixed in FileMaker: the next read stores it and it leaves the skipped list
        fm.advance(2)
        with DataSession(fm.base_url) as s:
            s.edit_by_key("Bridge Work Orders", "Work Order ID", "2", {"Technician Login": "chris"})

        async def again(p: SourcePoller) -> Any:
            await p.poll()  # WO-2 changed; unchanged WO-3 is not read again
            first = {s.key for s in p.status.newest_skips()}
            await p.reconcile()  # the catch-up reads what the store lacks: WO-3, skipped again
            await p.reconcile()  # ... and again: still one entry, counted once
            return first, [s.key for s in p.status.newest_skips()], p.status.skipped_total

        first, after, total = with_poller(settings, store, "workorders", again)
        assert "WO-2" in _ids(store, "WO-") and first == set()
        assert after == ["WO-3"] and total == 1


def test_unreadable_date_in_a_text_field_is_skipped(tmp_path: Path) -> None:
    # Many iPoint layouts show dates through text calculations: FileMaker then sends whatever
    # text the field holds.
    table = IPOINT_FILE.table("Work Orders")
    assert table is not None
    texty = dataclasses.replace(
        table,
        fields=tuple(FieldSpec(f.name) if f.name == "Start Date" else f for f in table.fields),
    )
    spec = dataclasses.replace(
        IPOINT_FILE,
        tables=tuple(texty if t.name == "Work Orders" else t for t in IPOINT_FILE.tables),
    )
    with EmulatorThread(EmulatorSettings(files=(spec,))) as fm:
        day = dt.date(2026, 12, 3)
        fm.load(
            "Work Orders",
            [
                work_order(1, day),
                work_order(2, day, **{"Start Date": "next Tuesday"}),
                work_order(3, day),
            ],
        )
        ini = write_ini(tmp_path, work_orders_ini(fm.base_url))
        with opened(ini) as (settings, store):

            async def scenario(p: SourcePoller) -> Any:
                result = await p.poll()
                return result, p.status.newest_skips()

            result, skips = with_poller(settings, store, "workorders", scenario)
            assert result.written == 2 and result.skipped == 1
            assert _ids(store, "WO-") == {"WO-1", "WO-3"}
            assert skips[0].key == "WO-2" and "Start Date" in f"{skips[0].field} {skips[0].reason}"


def test_dst_wall_times_follow_the_push_api_rule(fm: EmulatorThread, tmp_path: Path) -> None:
    spring, fall = dt.date(2027, 3, 14), dt.date(2027, 11, 7)
    fm.load(
        "Work Orders",
        [
            work_order(1, spring, **{"Start Time": "02:30:00", "End Time": "04:00:00"}),
            work_order(2, fall, **{"Start Time": "01:30:00", "End Time": "03:00:00"}),
        ],
    )
    ini = write_ini(tmp_path, work_orders_ini(fm.base_url))
    with opened(ini) as (settings, store):
        with_poller(settings, store, "workorders", lambda p: p.poll())
        utc = dt.UTC
        # 02:30 does not exist on 2027-03-14 in Chicago: read with the offset before the gap.
        assert _record(store, "WO-1").start.astimezone(utc) == dt.datetime(
            2027, 3, 14, 8, 30, tzinfo=utc
        )
        # 01:30 happens twice on 2027-11-07: the first one (daylight time).
        assert _record(store, "WO-2").start.astimezone(utc) == dt.datetime(
            2027, 11, 7, 6, 30, tzinfo=utc
        )


def test_portal_attendees_become_the_events_attendees(fm: EmulatorThread, tmp_path: Path) -> None:
    fm.load(
        "Events",
        [
            {
                "Event ID": "700",
                "Event Name": "Monday team meeting",
                "Organizer Login": "pat",
                "Start": "12/07/2026 07:30:00",
                "End": "12/07/2026 08:00:00",
                "portalData": {
                    "Event Attendees": [
                        {"Event Attendees::Login": login, "Event Attendees::Role": "Required"}
                        for login in ("chris", "dana")
                    ]
                },
            }
        ],
    )
    ini = write_ini(tmp_path, events_ini(fm.base_url))
    with opened(ini) as (settings, store):
        with_poller(settings, store, "events", lambda p: p.poll())
        event = _record(store, "EV-700")
        assert event.user == "pat"
        assert set(event.attendees) >= {"chris", "dana"}
        assert {"pat", "chris", "dana"} <= set(event.calendars)


def _delete_records(fm: EmulatorThread, numbers: list[int]) -> None:
    """Delete work orders by key through the Data API, as a FileMaker user would."""
    with DataSession(fm.base_url) as s:
        for n in numbers:
            s.delete_by_key("Bridge Work Orders", "Work Order ID", str(n))


def test_deletions_follow_and_a_mass_deletion_is_refused(
    fm: EmulatorThread, tmp_path: Path
) -> None:
    load_work_orders(fm, 40)
    ini = write_ini(tmp_path, work_orders_ini(fm.base_url))
    with opened(ini) as (settings, store):
        with_poller(settings, store, "workorders", lambda p: p.poll())
        _delete_records(fm, [3, 4])
        deleted = with_poller(settings, store, "workorders", lambda p: p.reconcile())
        assert deleted == 2
        assert len(_ids(store, "WO-")) == 38 and "WO-3" not in _ids(store, "WO-")

        _delete_records(fm, list(range(5, 30)))  # 25 of 38: over the 25% valve

        async def refused(p: SourcePoller) -> Any:
            with pytest.raises(SafetyValveError):
                await p.reconcile()
            return p.status.refused_deletion

        message = with_poller(settings, store, "workorders", refused)
        assert message and "refused to delete 25 of 38" in message
        assert len(_ids(store, "WO-")) == 38  # nothing deleted
        forced = with_poller(settings, store, "workorders", lambda p: p.reconcile(force=True))
        assert forced == 25


def test_server_faults_are_named_and_reading_resumes(fm: EmulatorThread, tmp_path: Path) -> None:
    from bridge.filemaker.service import SourceRunner

    load_work_orders(fm, 30)
    ini = write_ini(tmp_path, work_orders_ini(fm.base_url))
    with opened(ini) as (settings, store):

        async def scenario(p: SourcePoller) -> list[str | None]:
            runner = SourceRunner(p, poll_s=1, reconcile_s=3600)
            runner.next_reconcile = time.monotonic() + 3600  # polls only: one fault, one read
            seen: list[str | None] = []
            await runner.turn()
            seen.append(runner.status.last_error)
            fm.add_fault(kind="http_error", status=503, path="_find")
            await runner.turn()
            seen.append(runner.status.last_error)
            fm.clear_faults()
            fm.add_fault(kind="unreachable", path="_find", count=1)
            await runner.turn()
            seen.append(runner.status.last_error)
            assert runner.delay() > runner.poll_s  # backing off
            await runner.turn()
            seen.append(runner.status.last_error)
            return seen

        seen = with_poller(settings, store, "workorders", scenario)
        assert seen[0] is None
        assert seen[1] and "HTTP 503 without a Data API message" in seen[1]
        assert seen[2] and "does not answer" in seen[2] and "keeps serving" in seen[2]
        assert seen[3] is None  # the fault is gone: reading again
        assert len(_ids(store, "WO-")) == 30


def test_an_edit_made_during_the_first_read_is_read_next(
    fm: EmulatorThread, tmp_path: Path
) -> None:
    """Found in review: a whole read goes in creation order, and it kept the newest stamp it
    read as the position. A record already read and then edited (10:00:05) was older than a
    later record edited after it (10:00:35) minus the overlap, so no poll ever read the edit.
    The position is now the newest stamp FileMaker had when the read began."""
    load_work_orders(fm, 300)
    ini = write_ini(tmp_path, work_orders_ini(fm.base_url, extra="page_size = 100\n"))
    with opened(ini) as (settings, store):

        async def scenario(p: SourcePoller) -> None:
            real = p._write
            edited: list[bool] = []

            async def write(records: Any) -> Any:
                if not edited:
                    edited.append(True)  # page 1 (WO-1 among it) is read: edit WO-1, then WO-300
                    with DataSession(fm.base_url) as fmd:
                        fm.advance(5)
                        fmd.edit_by_key(
                            "Bridge Work Orders", "Work Order ID", "1", {"Work Order Name": "Moved"}
                        )
                        fm.advance(30)
                        fmd.edit_by_key(
                            "Bridge Work Orders",
                            "Work Order ID",
                            "300",
                            {"Work Order Name": "Late"},
                        )
                return await real(records)

            p._write = write  # type: ignore[method-assign]
            await p.poll()
            assert _record(store, "WO-300").title == "Late"  # read after its edit
            await p.poll()

        with_poller(settings, store, "workorders", scenario)
        assert _record(store, "WO-1").title == "Moved"
