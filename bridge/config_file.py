"""Where the configuration file is: ``-c FILE``, else ``$IPOINT_BRIDGE_CONFIG``, else
``/etc/ipoint-bridge/bridge.ini`` (the systemd unit's ``ConfigurationDirectory``)."""

from __future__ import annotations

import os
from pathlib import Path

from . import config
from .errors import ConfigError

ENV_VAR = "IPOINT_BRIDGE_CONFIG"
DEFAULT_PATH = Path("/etc/ipoint-bridge/bridge.ini")


def locate(explicit: str | None) -> Path:
    """The config file to read; ``ConfigError`` naming every place looked at when none is."""
    if explicit:
        return Path(explicit)
    from_env = os.environ.get(ENV_VAR, "")
    if from_env:
        return Path(from_env)  # a named file that is missing is an error, said by load()
    if DEFAULT_PATH.exists():
        return DEFAULT_PATH
    raise ConfigError(
        f"no configuration found: pass -c FILE, set {ENV_VAR}, or create {DEFAULT_PATH} "
        "('ipoint-bridge config example' prints a commented one to start from)"
    )


def load_located(explicit: str | None) -> config.Settings:
    """Read the configuration from where ``locate`` finds it."""
    return config.load(locate(explicit))
