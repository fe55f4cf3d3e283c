"""Session-wide fixtures: a real PostgreSQL server (started once) for the store contract suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import pg


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[pg.PostgresServer]:
    if not pg.available():
        pytest.skip("PostgreSQL server binaries are not installed (make test installs them)")
    server = pg.PostgresServer().start()
    yield server
    server.stop()
