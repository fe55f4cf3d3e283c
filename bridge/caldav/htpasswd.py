"""Technicians' CalDAV logins: Radicale's htpasswd file with bcrypt hashes.

Radicale re-reads the file when its size or modification time changes (``htpasswd_cache``), and
the bridge's auth module (``auth``) forgets cached logins then, so a login added, changed or
removed while the server runs counts at once. Changes are read-modify-write under an exclusive
lock on the file's folder, so the CLI and the admin page (or two instances) never lose each other's.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import bcrypt

from ..config import to_login
from ..files import write_private

logger = logging.getLogger(__name__)


def _read(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []


MAX_PASSWORD_BYTES = 72
"""bcrypt uses only the first 72 bytes; a longer password would be silently truncated."""


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    # The lock is on the folder itself: no lock file whose owner could shut the other side out
    # (root running ``users`` beside the service).
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def new_password() -> str:
    """A random password (96 bits) for a person to type once into a calendar app."""
    return secrets.token_urlsafe(12)


def check_password(password: str) -> None:
    """Raises ValueError naming what is wrong with a new password."""
    if not password:
        raise ValueError("empty password")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise ValueError(f"password longer than {MAX_PASSWORD_BYTES} bytes (bcrypt's limit)")
    if any(c in password for c in "\r\n\0"):
        raise ValueError("password contains a line break or NUL")


def set_password(path: Path, login: str, password: str, *, rounds: int = 12) -> None:
    """Add ``login`` to the htpasswd file at ``path``, or replace its password (bcrypt).

    Raises:
        ValueError: the login is not a valid bridge login, or the password is unusable.
    """
    login = to_login(login)
    check_password(password)
    digest = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()
    with _locked(path):
        lines = [line for line in _read(path) if line.split(":", 1)[0] != login]
        lines.append(f"{login}:{digest}")
        write_private(path, "\n".join(lines) + "\n")
    logger.info("htpasswd: set password of %s", login)


def remove_login(path: Path, login: str) -> bool:
    """Remove ``login``; True if it was there."""
    with _locked(path):
        lines = _read(path)
        kept = [line for line in lines if line.split(":", 1)[0] != login]
        if len(kept) == len(lines):
            return False
        write_private(path, "\n".join(kept) + ("\n" if kept else ""))
    logger.info("htpasswd: removed %s", login)
    return True


def logins(path: Path) -> list[str]:
    """Every login in the file, in file order."""
    return [line.split(":", 1)[0] for line in _read(path) if ":" in line]


def has_login(path: Path, login: str) -> bool:
    return any(line.split(":", 1)[0] == login for line in _read(path))


def ensure_file(path: Path) -> None:
    """Radicale refuses to start without the file; an empty one lets nobody in."""
    if not path.exists():
        write_private(path, "")


def digest_of(path: Path, login: str) -> str | None:
    for line in _read(path):
        name, sep, digest = line.partition(":")
        if sep and name == login:
            return digest
    return None
