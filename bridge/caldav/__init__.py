"""CalDAV for the bridge: Radicale with the iPoint storage plugin, configured from the bridge's
settings. ``start_caldav`` runs it; ``set_password`` manages technicians' logins.

This package may import Radicale but never ``radicale_plugin`` (Radicale loads the plugin by
name from the configuration built here).
"""

from __future__ import annotations

from .htpasswd import remove_login, set_password
from .layout import grant_path, own_path
from .radicale_config import radicale_ini
from .server import CalDAVHandle, prepare_files, start_caldav

__all__ = [
    "CalDAVHandle",
    "grant_path",
    "own_path",
    "prepare_files",
    "radicale_ini",
    "remove_login",
    "set_password",
    "start_caldav",
]
