"""Opening the configured event store: the one place that turns ``[store]`` settings into an
``EventStore`` (the CalDAV server, the web server and every command use it); also this
process's name among instances sharing the store, and where it reaches its own CalDAV server."""

from __future__ import annotations

from .config import Settings
from .files import private_dir
from .store import EventStore
from .store.db import open_database
from .store.lease import default_instance_name
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


def local_caldav_url(settings: Settings) -> str:
    """Where this host reaches the bridge's CalDAV server (a wildcard bind means loopback)."""
    host = settings.caldav.host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{settings.caldav.port}"


def instance_name(settings: Settings) -> str:
    """This process's name among instances sharing a store (``[bridge] instance_name``, else
    hostname:pid)."""
    return settings.bridge.instance_name or default_instance_name()
