"""The admin page's FileMaker cards: per source the last successful read, records read and
deleted, skipped records with their reasons, the last error and a refused mass deletion."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from ..filemaker import runners
from ..keys import SETTINGS


@dataclass(frozen=True, slots=True)
class SourceCard:
    name: str
    layout: str
    ok: bool
    headline: str
    last_success: str
    records_read: int
    records_deleted: int
    skipped_total: int
    skips: tuple[object, ...]
    last_error: str | None
    refused_deletion: str | None


def _when(ts: float | None, tz: ZoneInfo) -> str:
    if ts is None:
        return "never"
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M:%S %Z")


def source_cards(app: web.Application) -> list[SourceCard]:
    tz = ZoneInfo(app[SETTINGS].bridge.timezone)
    cards = []
    for name, runner in sorted(runners(app).items()):
        st = runner.status
        if st.last_error:
            headline = "Not reading: see the last error below"
        elif st.last_success is None:
            headline = "Starting: first read not finished yet"
        else:
            headline = "Reading: up to date"
        cards.append(
            SourceCard(
                name=name,
                layout=runner.poller.spec.layout,
                ok=st.ok,
                headline=headline,
                last_success=_when(st.last_success, tz),
                records_read=st.records_read,
                records_deleted=st.records_deleted,
                skipped_total=st.skipped_total,
                skips=tuple(st.newest_skips()),
                last_error=st.last_error,
                refused_deletion=st.refused_deletion,
            )
        )
    return cards
