"""Radicale storage plugin serving the iPoint bridge's event store (``[storage] type =
radicale_plugin``). Everything lives in the submodules; Radicale only needs ``Storage``."""

from __future__ import annotations

from .storage import Storage

__all__ = ["Storage"]
