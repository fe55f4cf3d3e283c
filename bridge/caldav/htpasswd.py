"""Technicians' CalDAV logins: Radicale's htpasswd file with bcrypt hashes.

Radicale re-reads the file when its size or modification time changes (``htpasswd_cache``), so
a login added while the server runs works at once.
"""

from __future__ import annotations

import logging
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


def set_password(path: Path, login: str, password: str, *, rounds: int = 12) -> None:
    """Add ``login`` to the htpasswd file at ``path``, or replace its password (bcrypt).

    Raises:
        ValueError: the login is not a valid bridge login, or the password is empty.
    """
    login = to_login(login)
    if not password:
        raise ValueError("empty password")
    digest = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()
    lines = [line for line in _read(path) if line.split(":", 1)[0] != login]
    lines.append(f"{login}:{digest}")
    write_private(path, "\n".join(lines) + "\n")
    logger.info("htpasswd: set password of %s", login)


def remove_login(path: Path, login: str) -> bool:
    """Remove ``login``; True if it was there."""
    lines = _read(path)
    kept = [line for line in lines if line.split(":", 1)[0] != login]
    if len(kept) == len(lines):
        return False
    write_private(path, "\n".join(kept) + ("\n" if kept else ""))
    logger.info("htpasswd: removed %s", login)
    return True


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
