"""From ``[filemaker:NAME]`` settings to running parts: the Data API client, the poller with the
section's field map, and its loop. The one place the connector reads the config."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

import aiohttp

from ..config import Settings
from ..errors import ConfigError, Problem
from ..filemaker_settings import FileMakerSettings
from ..records import EventRecord
from ..store import EventStore
from .client import DataAPI
from .mapping import FileMakerRecord, read_record
from .password import read_password
from .poller import Reader, SourcePoller, SourceSpec
from .service import SourceRunner
from .state import migrate

KEY_PAGE_SIZE = 2_000
"""Records per request in the deletion scan. The Data API sends every field of the layout, so
a page's parsed answer is what the scan holds besides the keys: 2,000 keeps it to a few MB."""


def section(settings: Settings, name: str) -> FileMakerSettings:
    """The settings of ``[filemaker:NAME]``; ``ConfigError`` naming the sections there are."""
    sources = settings.filemaker
    if name not in sources:
        known = ", ".join(sorted(sources)) or "none"
        raise ConfigError(f"no section [filemaker:{name}] (configured: {known})")
    return sources[name]


def spec_of(name: str, fm: FileMakerSettings) -> SourceSpec:
    portal_fields = (fm.attendees_field,) if fm.attendees_field else ()
    return SourceSpec(
        name=name,
        layout=fm.layout,
        id_field=fm.id_field,
        id_prefix=fm.id_prefix,
        modified_field=fm.modified_field,
        portals=(fm.attendees_portal,) if fm.attendees_portal else (),
        required_fields=fm.filemaker_fields(),
        portal_fields=portal_fields,
        page_size=fm.page_size,
        key_page_size=max(fm.page_size, KEY_PAGE_SIZE),
        overlap_s=fm.overlap_seconds,
    )


def api_of(
    settings: Settings, name: str, fm: FileMakerSettings, http: aiohttp.ClientSession
) -> DataAPI:
    context = None
    if fm.ca_file:
        context = ssl.create_default_context(cafile=str(settings.data_path(fm.ca_file)))
    return DataAPI(
        http,
        fm.url,
        fm.database,
        fm.username,
        read_password(fm, settings, name),
        max_answer_bytes=fm.max_response_bytes,
        timeout_s=fm.timeout_seconds,
        ssl_context=context,
    )


def reader_of(settings: Settings, fm: FileMakerSettings) -> Reader:
    """The source's field map and the push API's validation, for one Data API record."""
    tz = settings.bridge.timezone

    def read(data: Mapping[str, Any]) -> tuple[EventRecord | None, list[Problem]]:
        return read_record(FileMakerRecord.from_data_api(data), fm, tz, settings.ingest)

    return read


def build_poller(
    settings: Settings,
    name: str,
    store: EventStore,
    http: aiohttp.ClientSession,
    *,
    separate_scan: bool = False,
) -> SourcePoller:
    """One source's poller; ``separate_scan`` gives the deletion scan a session of its own
    (``serve`` runs it beside the polls)."""
    fm = section(settings, name)
    return SourcePoller(
        spec_of(name, fm),
        api_of(settings, name, fm, http),
        store,
        reader_of(settings, fm),
        max_delete_share=fm.max_delete_share,
        scan_api=api_of(settings, name, fm, http) if separate_scan else None,
    )


def build_runners(
    settings: Settings, store: EventStore, http: aiohttp.ClientSession
) -> dict[str, SourceRunner]:
    """One loop per configured source (none without ``[filemaker:*]`` sections)."""
    if settings.filemaker:
        migrate(store)
    return {
        name: SourceRunner(
            build_poller(settings, name, store, http, separate_scan=True),
            poll_s=fm.poll_seconds,
            reconcile_s=fm.reconcile_minutes * 60.0,
        )
        for name, fm in settings.filemaker.items()
    }
