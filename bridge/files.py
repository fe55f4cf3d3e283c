"""Private files: tokens, credentials, password and rights files, written so only their owner
can read them (0600) and never half-written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


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
