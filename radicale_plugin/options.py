"""The plugin's own Radicale options, declared through Radicale's plugin config schema.

``Configuration.copy(PLUGIN_SCHEMA)`` re-checks every ``[storage]`` option against the schema,
so a misspelt option stops Radicale at start-up instead of being ignored.

- ``bridge_config``: the bridge's INI file; the plugin reads it with ``bridge.config.load`` and
  opens the same store (``bridge.runtime.open_store``). This is how a stand-alone
  ``python -m radicale`` uses the plugin.
- ``bridge_settings`` / ``bridge_store``: set only in-process by ``bridge.caldav`` (Radicale
  keeps option values as objects), so the CalDAV server shares the bridge's settings and store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from radicale import config as radicale_config

from bridge.config import Settings, load
from bridge.errors import ConfigError
from bridge.store import EventStore

from .errors import PluginConfigError


def _settings(value: Any) -> Settings | None:
    if value in ("", None):
        return None
    if not isinstance(value, Settings):
        raise ValueError("expected bridge settings (set in-process by bridge.caldav)")
    return value


def _store(value: Any) -> EventStore | None:
    if value in ("", None):
        return None
    for name in ("calendar_state", "changes_since", "iter_range", "get_many"):
        if not callable(getattr(value, name, None)):
            raise ValueError("expected an event store (set in-process by bridge.caldav)")
    return value  # type: ignore[no-any-return]


PLUGIN_SCHEMA: dict[str, dict[str, dict[str, Any]]] = {
    "storage": {
        "bridge_config": {
            "value": "",
            "help": "the ipoint-bridge INI file whose store this plugin serves",
            "type": radicale_config.filepath,
        },
        "bridge_settings": {
            "value": "",
            "help": "in-process only: bridge settings object",
            "type": _settings,
        },
        "bridge_store": {
            "value": "",
            "help": "in-process only: an open event store to share",
            "type": _store,
        },
    }
}


@dataclass(frozen=True, slots=True)
class PluginOptions:
    settings: Settings
    store: EventStore | None
    """A store to share; None: the plugin opens (and owns) one from ``settings``."""


def load_options(configuration: radicale_config.Configuration) -> PluginOptions:
    """Check the ``[storage]`` options and read the bridge's settings.

    Raises:
        PluginConfigError: an unknown option, no bridge configuration, or a bad INI file.
    """
    try:
        checked = configuration.copy(PLUGIN_SCHEMA)
    except (RuntimeError, ValueError) as exc:
        raise PluginConfigError(f"radicale_plugin: {exc}") from exc
    settings = checked.get("storage", "bridge_settings")
    store = checked.get("storage", "bridge_store")
    path = checked.get("storage", "bridge_config")
    if settings is None:
        if not path:
            raise PluginConfigError(
                "radicale_plugin: set [storage] bridge_config = /path/to/bridge.ini"
            )
        try:
            settings = load(path)
        except ConfigError as exc:
            raise PluginConfigError(f"radicale_plugin: {exc}") from exc
    return PluginOptions(settings=settings, store=store)
