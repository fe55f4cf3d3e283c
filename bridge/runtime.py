"""Opening the configured event store: the one place that turns ``[store]`` settings into an
``EventStore`` (the CalDAV server, the web server and every command use it)."""

from __future__ import annotations

from .config import Settings
from .files import private_dir
from .store import EventStore
from .store.db import open_database
from .store.sql import SQLEventStore


def open_store(settings: Settings) -> EventStore:
    """The configured event store, migrated and ready."""
    private_dir(settings.data_dir)
    db = open_database(
        settings.store.backend,
        path=str(settings.data_path(settings.store.path)),
        dsn=settings.store.dsn or None,
    )
    return SQLEventStore(db)
