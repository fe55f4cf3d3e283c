"""A FileMaker source's password: the option itself, or ``password_file``, which must be
private (0600) like every file holding a secret."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..config import Settings
from ..errors import ConfigError
from ..filemaker_settings import FileMakerSettings


def read_password(source: FileMakerSettings, settings: Settings, name: str) -> str:
    """The source's password: the option, or the file (which must not be readable by others)."""
    if source.password:
        return source.password
    path = settings.data_path(source.password_file)
    section = f"filemaker:{name}"
    try:
        mode = os.stat(path).st_mode
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read {path}: {exc.strerror}",
            file=settings.path,
            section=section,
            option="password_file",
        ) from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{path} is readable by others: chmod 600 it",
            file=settings.path,
            section=section,
            option="password_file",
        )
    password = text.strip("\r\n")
    if not password:
        raise ConfigError(
            f"{path} is empty", file=settings.path, section=section, option="password_file"
        )
    return password
