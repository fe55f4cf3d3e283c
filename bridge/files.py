"""Private files: tokens, credentials, password and rights files, written so only their owner
can read them (0600) and never half-written."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (tokens, credentials), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    if os.geteuid() == 0:
        # root editing a service's file (``sudo ipoint-bridge users add``): the file stays the
        # service's, or the service could no longer read it.
        try:
            st = os.stat(path)
        except FileNotFoundError:
            st = os.stat(path.parent)
        os.chown(tmp, st.st_uid, st.st_gid)
    os.replace(tmp, path)
