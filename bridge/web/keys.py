"""Typed application keys shared by the web server's modules."""

from __future__ import annotations

from aiohttp import web

from ..config import Settings
from ..store import EventStore

SETTINGS: web.AppKey[Settings] = web.AppKey("settings", Settings)
STORE: web.AppKey[EventStore] = web.AppKey("store", EventStore)
