"""Radicale's configuration, built from the bridge's settings (never from /etc/radicale).

Auth is htpasswd with bcrypt and ``cache_logins`` (a bcrypt check costs about 0.3 s, so an
uncached login per request would dominate every answer), through ``auth``, which forgets the
cache when the htpasswd file changes; rights come from the generated rights
file; storage is the iPoint plugin, which hands everything but iPoint calendars to Radicale's
multifilesystem storage under ``[caldav] collection_root``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from radicale import config as radicale_config

from ..config import Settings
from ..store import EventStore
from .auth import MODULE as AUTH

PLUGIN = "radicale_plugin"


def htpasswd_path(settings: Settings) -> Path:
    return settings.data_path(settings.caldav.htpasswd)


def rights_path(settings: Settings) -> Path:
    return settings.data_dir / "caldav-rights.ini"


def collections_path(settings: Settings) -> Path:
    return settings.data_path(settings.caldav.collection_root)


def radicale_configuration(
    settings: Settings,
    *,
    store: EventStore | None = None,
    overrides: Mapping[str, Mapping[str, str]] | None = None,
) -> radicale_config.Configuration:
    """The configuration ``radicale.Application`` runs with for these settings (the server
    address is not part of it: ``start_caldav`` binds the socket itself).

    Args:
        store: an open store the plugin shares; None lets the plugin open its own.
        overrides: extra Radicale options (tests and benchmarks lower ``[auth] delay``).
    """
    configuration = radicale_config.load()
    values: dict[str, dict[str, Any]] = {
        "auth": {
            "type": AUTH,
            "htpasswd_filename": str(htpasswd_path(settings)),
            "htpasswd_encryption": "bcrypt",
            "htpasswd_cache": "True",
            "cache_logins": "True",
            "realm": "iPoint calendars",
        },
        "rights": {"type": "from_file", "file": str(rights_path(settings))},
        "storage": {
            "type": PLUGIN,
            "filesystem_folder": str(collections_path(settings)),
            "bridge_settings": settings,
        },
    }
    if store is not None:
        values["storage"]["bridge_store"] = store
    for section, options in (overrides or {}).items():
        values.setdefault(section, {}).update(options)
    configuration.update(values, "ipoint-bridge settings")
    configuration.update({"server": {"_internal_server": "True"}}, "ipoint-bridge", privileged=True)
    return configuration


def radicale_ini(settings: Settings, config_path: Path) -> str:
    """A Radicale INI for running the plugin outside the bridge (``python -m radicale``)."""
    return "\n".join(
        [
            "[server]",
            f"hosts = {settings.caldav.host}:{settings.caldav.port}",
            "[auth]",
            f"type = {AUTH}",
            f"htpasswd_filename = {htpasswd_path(settings)}",
            "htpasswd_encryption = bcrypt",
            "htpasswd_cache = True",
            "cache_logins = True",
            "[rights]",
            "type = from_file",
            f"file = {rights_path(settings)}",
            "[storage]",
            f"type = {PLUGIN}",
            f"filesystem_folder = {collections_path(settings)}",
            f"bridge_config = {config_path}",
            "",
        ]
    )
