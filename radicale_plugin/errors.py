"""The plugin's exceptions.

Radicale answers a ``ValueError`` from a storage write with 400/409; in normal operation the
rights file and the WSGI front refuse writes to iPoint calendars first (403 with an explanation),
so these only fire if Radicale is run with a hand-made rights file.
"""

from __future__ import annotations

from bridge.caldav.layout import READ_ONLY_TEXT


class PluginError(Exception):
    """Base of the plugin's own errors."""


class ReadOnlyCalendar(PluginError, ValueError):
    """A write was attempted on an iPoint calendar."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"{path!r}: {READ_ONLY_TEXT.strip()}")


class PluginConfigError(PluginError, RuntimeError):
    """The plugin's Radicale options are missing or wrong (raised at start-up)."""
