"""Building the bridge's parts from settings: the one place that wires configuration to objects."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from .config import Settings
from .store import EventStore
from .store.db import open_database
from .store.sql import SQLEventStore


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as a folder only its owner can enter (0700); an
    existing one is made 0700 too, since it holds the database, tokens and calendars."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # a read-only mount or another owner: leave it be
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            os.chmod(path, 0o700)
    return path


def open_store(settings: Settings) -> EventStore:
    """The configured event store, migrated and ready."""
    private_dir(settings.data_dir)
    db = open_database(
        settings.store.backend,
        path=str(settings.data_path(settings.store.path)),
        dsn=settings.store.dsn or None,
    )
    return SQLEventStore(db)


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (tokens, credentials), atomically."""
    if not path.parent.is_dir():
        private_dir(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


#: Options whose value is a secret: a file holding any of them must be private (0600).
SECRET_OPTIONS = (
    ("web", "ingest_token"),
    ("caldav", "service_password"),
    ("google", "client_secret"),
    ("admin", "password_hash"),
)


def exposure_warnings(settings: Settings) -> list[str]:
    """What group or other users can read that they should not: the config file when it
    holds a secret, and the data folder."""
    out: list[str] = []
    secrets = [
        f"[{section}] {option}"
        for section, option in SECRET_OPTIONS
        if getattr(getattr(settings, section), option)
    ]
    secrets += [
        f"[mirror:{name}] password" for name, src in settings.sources.items() if src.password
    ]
    if settings.path and secrets:
        mode = _mode(Path(settings.path))
        if mode is not None and mode & 0o077:
            out.append(
                f"{settings.path} is readable by other users (mode {mode:04o}) and holds "
                f"{', '.join(secrets)}: chmod 600 {settings.path}"
            )
    mode = _mode(settings.data_dir)
    if mode is not None and mode & 0o077:
        out.append(
            f"data folder {settings.data_dir} is open to other users (mode {mode:04o}): "
            f"chmod 700 {settings.data_dir}"
        )
    return out


def _mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
