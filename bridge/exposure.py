"""Secrets others could read: the config file when it holds a secret, and the data folder
(``check`` and ``serve`` warn; they do not refuse, since the admin may have a reason)."""

from __future__ import annotations

import stat
from pathlib import Path

from .config import Settings

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
    for name, fm in settings.filemaker.items():
        secrets += [
            f"[filemaker:{name}] {option}"
            for option in ("password", "webhook_token")
            if getattr(fm, option)
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
