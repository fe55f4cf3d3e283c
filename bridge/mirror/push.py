"""Writing to Google: the calendars the queue needs, the queue itself (newest change first,
``[google] parallel_batches`` batches in flight), and the names, zones and sharing of existing
calendars. Runs on the mirror's worker thread (``Mirror.run``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..google.client import GoogleClient
from ..google.errors import GoogleError, NotAuthorized, NotFound
from .actions import ApplyReport, pump
from .calendars import ensure_calendar, list_calendars, sync_acl, update_calendar
from .plan import Action, plan_push
from .sources import Target

if TYPE_CHECKING:
    from .engine import Mirror

logger = logging.getLogger(__name__)

MAX_FAILED_PER_PUSH = 2000
"""A push stops planning after this many refused rows (each is retried on a later push)."""

ACL_RETRY_S = 600.0
"""After Google refused a calendar's name or sharing update, wait this long before the next try."""


@dataclass(frozen=True, slots=True)
class PushReport:
    settled: int = 0
    sent: int = 0
    failed: int = 0
    blocked: str | None = None
    """Why nothing could be written (quota pause, not authorized), in plain words."""
    calendars_gone: int = 0
    """Calendars found deleted by hand during the push (reset; created again next round)."""


def create_calendars(mirror: Mirror, chosen: Sequence[Target]) -> None:
    """Create the Google calendars that queued changes need and do not have yet (a calendar
    created before a crash is found again by its marker, not created twice). A calendar that
    cannot be created is that calendar's error; its changes wait."""
    if mirror.google.blocked():
        return
    need = sorted(mirror.status.dirty_calendars() - mirror.google_ids().keys())
    by_key = {t.key: t for t in chosen}
    need = [key for key in need if key in by_key]
    if not need:
        return
    try:
        client = mirror.google.client()
        listing = list_calendars(client)
    except NotAuthorized as exc:
        mirror.google.not_authorized(exc)  # the push reports it
        return
    except GoogleError as exc:
        for key in need:
            mirror.error(key, f"cannot create the Google calendar: {exc}")
        return
    tz = mirror.settings.bridge.timezone
    for key in need:
        try:
            ensure_calendar(client, mirror.status, by_key[key], tz, listing)
            mirror.status.set_calendar(key, last_reconcile=mirror.clock())
        except NotAuthorized as exc:
            mirror.google.not_authorized(exc)
            return
        except GoogleError as exc:
            mirror.error(key, f"cannot create the Google calendar: {exc}")


def push(mirror: Mirror, chosen: Sequence[Target], deadline: float) -> PushReport:
    """Send queued changes of calendars that exist in Google until the queue is empty, the
    deadline passes, or Google stops accepting writes. A row that failed is not tried again
    within the same call."""
    blocked = mirror.google.blocked()
    if blocked:
        return PushReport(blocked=blocked)
    try:
        client = mirror.google.client()
        return _push(mirror, client, chosen, deadline)
    except NotAuthorized as exc:
        mirror.google.not_authorized(exc)
        return PushReport(blocked=str(exc))


def _push(
    mirror: Mirror, client: GoogleClient, chosen: Sequence[Target], deadline: float
) -> PushReport:
    status = mirror.status
    ids = mirror.google_ids()
    skip_keys: set[str] = set()
    """Calendars whose rows wait: no Google calendar (not configured, not created, or gone)."""
    gone: set[str] = set()
    size = client.batch_size

    def next_batch(report: ApplyReport, busy: set[str]) -> list[Action]:
        for key in report.calendars_gone - gone:
            logger.warning("google calendar of %s is gone: creating it again", key)
            status.reset_calendar(key)
            ids.pop(key, None)
            gone.add(key)
        report.calendars_gone.clear()
        if mirror.clock() >= deadline or len(report.failed_gids) > MAX_FAILED_PER_PUSH:
            return []
        # A row that failed is not tried again within this push; rows in flight wait.
        skip = busy | report.failed_gids
        while True:
            rows = status.dirty(size * 2 + len(skip), skip_keys | gone)
            rows = [r for r in rows if r.gid not in skip]
            without = {r.cal_key for r in rows} - ids.keys()
            if not without:
                break
            skip_keys.update(without)
        series = status.series_rows({(r.cal_key, r.series) for r in rows if r.series})
        return plan_push(rows, series, ids)[:size]

    report = pump(client, status, next_batch)
    for key, message in report.last_error.items():
        mirror.error(key, message)
    for key in report.calendars_gone - gone:
        status.reset_calendar(key)
        gone.add(key)
    if report.quota is not None:
        mirror.google.pause()
        blocked = mirror.google.blocked()
        return PushReport(report.settled, report.sent, report.failed, blocked, len(gone))
    now = mirror.clock()
    for key in {t.key for t in chosen if t.key in ids}:
        status.set_calendar(key, last_push=now)
    return PushReport(report.settled, report.sent, report.failed, calendars_gone=len(gone))


def maintain(mirror: Mirror, chosen: Sequence[Target]) -> None:
    """Names, zones and ACLs of existing calendars equal to the configuration (no calls when
    nothing changed)."""
    if mirror.google.blocked():
        return
    try:
        client = mirror.google.client()
    except NotAuthorized:
        return
    tz = mirror.settings.bridge.timezone
    for target in chosen:
        row = mirror.status.calendar(target.key)
        if row is None or not row.google_id:
            continue
        try:
            update_calendar(client, mirror.status, target, tz, row.google_id)
            if row.acl_hash != target.acl_hash() and mirror.clock() >= mirror.acl_retry.get(
                target.key, 0.0
            ):
                sync_acl(
                    client,
                    mirror.status,
                    target,
                    row.google_id,
                    send_notifications=mirror.settings.google.send_notifications,
                )
        except NotAuthorized as exc:
            mirror.google.not_authorized(exc)
            return
        except NotFound:
            logger.warning("google calendar of %s is gone: creating it again", target.key)
            mirror.status.reset_calendar(target.key)
        except GoogleError as exc:
            mirror.acl_retry[target.key] = mirror.clock() + ACL_RETRY_S
            mirror.error(target.key, f"cannot update the calendar's name or sharing: {exc}")
