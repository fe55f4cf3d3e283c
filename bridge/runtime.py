"""Building the bridge's parts from settings: the one place that wires configuration to objects."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .config import Settings
from .store import EventStore
from .store.db import open_database
from .store.lease import default_instance_name
from .store.sql import SQLEventStore


def open_store(settings: Settings) -> EventStore:
    """The configured event store, migrated and ready."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
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


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (tokens, credentials), atomically.

    The temporary file has a unique name (``mkstemp``, created 0600), so several processes
    sharing a data folder (two instances, or ``serve`` beside a command) never write into each
    other's half-written file; the last ``os.replace`` wins whole.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
