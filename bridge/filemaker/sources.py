"""From ``[filemaker:NAME]`` settings to running parts: the Data API client, the poller with the
section's field map, and its loop. The one place the FileMaker package reads the config."""

from __future__ import annotations

from typing import Any

import aiohttp

from ..config import Settings
from ..errors import ConfigError
from ..store import EventStore
from .client import DataAPI
from .poller import Mapper, SourcePoller, SourceSpec
from .service import SourceRunner
from .state import migrate


def section(settings: Settings, name: str) -> Any:
    """The settings of ``[filemaker:NAME]``; ``ConfigError`` naming the sections there are."""
    sources = settings.filemaker
    if name not in sources:
        known = ", ".join(sorted(sources)) or "none"
        raise ConfigError(f"no section [filemaker:{name}] (configured: {known})")
    return sources[name]


def spec_of(name: str, fm: Any) -> SourceSpec:
    portals = (fm.attendees_portal,) if fm.attendees_portal else ()
    return SourceSpec(
        name=name,
        layout=fm.layout,
        id_field=fm.id_field,
        id_prefix=fm.id_prefix,
        modified_field=fm.modified_field,
        portals=portals,
        page_size=fm.page_size,
        key_page_size=fm.key_page_size,
    )


def mapper_of(settings: Settings, fm: Any) -> Mapper:
    from .mapping import make_mapper

    return make_mapper(fm, settings.bridge.timezone)


def api_of(settings: Settings, fm: Any, http: aiohttp.ClientSession) -> DataAPI:
    return DataAPI(http, fm.url, fm.database, fm.username, fm.secret(settings))


def build_poller(
    settings: Settings, name: str, store: EventStore, http: aiohttp.ClientSession
) -> SourcePoller:
    fm = section(settings, name)
    return SourcePoller(
        spec_of(name, fm),
        api_of(settings, fm, http),
        store,
        mapper_of(settings, fm),
        settings.bridge.timezone,
        max_delete_share=settings.import_.max_delete_share,
    )


def build_runners(
    settings: Settings, store: EventStore, http: aiohttp.ClientSession
) -> dict[str, SourceRunner]:
    """One loop per configured source (none without ``[filemaker:*]`` sections)."""
    if settings.filemaker:
        migrate(store)
    out = {}
    for name, fm in settings.filemaker.items():
        out[name] = SourceRunner(
            build_poller(settings, name, store, http),
            poll_s=float(fm.poll_seconds),
            reconcile_s=float(fm.reconcile_minutes) * 60.0,
        )
    return out
