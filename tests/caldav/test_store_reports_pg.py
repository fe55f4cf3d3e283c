"""The store-answered REPORTs and GETs of ``test_store_reports``, on a PostgreSQL store: the
front holds a read snapshot across a streamed answer, and PostgreSQL's snapshots (REPEATABLE
READ, one connection per worker thread) must give the same answers as SQLite's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import pg
from tests.caldav.conftest import Server, serving
from tests.caldav.test_store_reports import (  # noqa: F401  (collected here again)
    calendar,
    test_a_store_failure_leaves_no_snapshot_open,
    test_answers_equal_radicales,
    test_calendar_get_carries_the_propfind_etag,
    test_large_answer_streams_whole,
    test_nobody_gets_past_radicales_auth_and_rights,
    test_sync_after_update_and_delete_equals_radicales,
    test_unknown_token_gets_the_rfc_error,
)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: pg.PostgresServer
) -> Iterator[Server]:
    dsn = postgres_server.fresh_database("caldav_reports")
    extra = f"\n[store]\nbackend = postgresql\ndsn = {dsn}\n"
    with serving(tmp_path_factory.mktemp("caldav-pg"), extra) as running:
        assert type(running.store.db).__name__ == "PostgresDatabase"
        yield running
