"""Private files: tokens, credentials, password and rights files, written so only their owner
can read them (0600) and never half-written."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as a folder only its owner can enter (0700); an
    existing one is made 0700 too, since it holds the database, tokens and calendars."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # a read-only mount or another owner: leave it be
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            os.chmod(path, 0o700)
    return path


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (tokens, credentials), atomically.

    The temporary file has a unique name (``mkstemp``, created 0600), so several processes
    sharing a data folder (two instances, or ``serve`` beside a command) never write into each
    other's half-written file; the last ``os.replace`` wins whole.
    """
    if not path.parent.is_dir():
        private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        if os.geteuid() == 0:
            # root editing a service's file (``sudo ipoint-bridge users add``): the file stays
            # the service's, or the service could no longer read it.
            try:
                st = os.stat(path)
            except FileNotFoundError:
                st = os.stat(path.parent)
            os.chown(tmp, st.st_uid, st.st_gid)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
