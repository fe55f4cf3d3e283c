"""The FileMaker source on a PostgreSQL store: the kept position and the deletion scan's query
(ids under the prefix, whatever the collation orders around them)."""

from __future__ import annotations

from pathlib import Path

from filemaker_emulator.testing import EmulatorThread

from bridge.filemaker.state import live_ids
from tests import pg
from tests.filemaker.fmdata import DataSession
from tests.filemaker.support import (
    load_work_orders,
    opened,
    requests_total,
    with_poller,
    work_orders_ini,
    write_ini,
)
from tests.support import record


def test_position_and_deletions_on_postgresql(
    tmp_path: Path, postgres_server: pg.PostgresServer
) -> None:
    dsn = postgres_server.fresh_database("filemaker_source")
    with EmulatorThread() as fm:
        load_work_orders(fm, 1200)
        ini = write_ini(
            tmp_path,
            work_orders_ini(fm.base_url),
            head=f"[store]\nbackend = postgresql\ndsn = {dsn}\n",
        )
        with opened(ini) as (settings, store):
            # records of other origins around the prefix in any collation's order
            store.apply([record("WO1-pushed"), record("WOA"), record("wo-7"), record("W-O")])
            first = with_poller(settings, store, "workorders", lambda p: p.poll())
            assert first.written == 1200
            before = requests_total(fm)
            again = with_poller(settings, store, "workorders", lambda p: p.poll())
            assert again.written == 0 and requests_total(fm) - before <= 3
            with DataSession(fm.base_url) as s:
                for n in (5, 600, 1200):
                    s.delete_by_key("Bridge Work Orders", "Work Order ID", str(n))
            deleted = with_poller(settings, store, "workorders", lambda p: p.reconcile())
            assert deleted == 3
            ids = set(live_ids(store, "WO-"))
            assert len(ids) == 1197 and not {"WO-5", "WO-600", "WO-1200"} & ids
            assert store.get("WO1-pushed") is not None and store.get("wo-7") is not None
