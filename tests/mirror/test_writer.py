"""The Google writer's lease fences the mirror: once another process has taken the lease over, a
stale writer's next status write is rolled back and its pass stops before it writes to Google;
the new writer carries on from the shared status and Google ends up with each change once."""

from __future__ import annotations

import time

import pytest

from bridge.mirror.engine import Mirror
from bridge.mirror.writer import GoogleWriter
from bridge.store.lease import LeaseLost, Leases
from tests.mirror.support import FAST, Shop, record

SECONDS = 0.5


def _mirror(shop: Shop) -> Mirror:
    return Mirror(
        shop.settings,
        shop.store.db,
        users=shop.store.users,
        caldav_base=shop.caldav.url,
        tuning=FAST,
    )


def test_a_replaced_writer_is_fenced_off(shop: Shop) -> None:
    shop.put(record("1"), record("2"))
    stale = _mirror(shop)
    first = GoogleWriter(Leases(shop.store.db, seconds=SECONDS), "one", stale.status)
    first.step()
    assert first.holds
    assert shop.sync(stale).converged
    cid = shop.calendar_id("chris")
    time.sleep(SECONDS * 1.5)  # "one" stalls past its lease...
    fresh = _mirror(shop)
    second = GoogleWriter(Leases(shop.store.db, seconds=SECONDS), "two", fresh.status)
    second.step()  # ...and "two" takes it over
    assert second.holds and second.lease is not None and second.lease.token == 2
    shop.put(record("1", title="Changed"), record("3"))
    calls = stale.counter.total()
    with pytest.raises(LeaseLost):
        shop.sync(stale)  # its first status write (the poll's) is refused
    assert stale.counter.total() == calls  # so it wrote nothing to Google
    before = {e["summary"] for e in shop.events("chris").values()}
    assert before == {"Job 1", "Job 2"}
    assert shop.sync(fresh).converged
    after = sorted(e["summary"] for e in shop.events("chris").values())
    assert after == ["Changed", "Job 2", "Job 3"]
    assert shop.calendar_id("chris") == cid  # the same calendar, not a second one
    for m in (stale, fresh):
        m.shutdown()
