"""Reconcile: list a Google calendar by the bridge's private mark and queue only what differs
from the status: events edited by hand (their etag moved) or deleted by hand are sent again,
copies carrying the mark that the bridge did not make are deleted, occurrences of a series
edited by hand are put back to the series' content. A plain sync never lists Google (it trusts
its status and costs nothing when nothing changed); this is the repair for hand edits.

Listing uses ``privateExtendedProperty`` (not combinable with a sync token, per the
events.list reference), ``singleEvents=false`` so overridden occurrences come as their own
items, and only ``id,etag,status`` fields.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..google.client import GoogleClient
from ..google.errors import GoogleError, NotAuthorized, NotFound
from .actions import request_for
from .mapping import MARK_KEY, MARK_VALUE
from .plan import DELETED, Action
from .status import StatusDB

if TYPE_CHECKING:
    from .engine import Mirror

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    calendars: int = 0
    edited: int = 0
    missing: int = 0
    removed: int = 0
    reverted: int = 0


def reconcile_calendar(
    client: GoogleClient, status: StatusDB, key: str, cid: str, now: float
) -> ReconcileReport:
    """Queue the differences between one Google calendar and the status (see module doc).

    Raises:
        GoogleError: the listing failed (NotFound: the calendar is gone).
    """
    listing: dict[str, str | None] = {}
    for page in client.pages(
        lambda s, t: s.events().list(
            calendarId=cid,
            pageToken=t,
            privateExtendedProperty=f"{MARK_KEY}={MARK_VALUE}",
            showDeleted=False,
            singleEvents=False,
            maxResults=2500,
            fields="items(id,etag,status),nextPageToken",
        )
    ):
        for item in page.get("items", []):
            if item.get("status") != "cancelled":
                listing[str(item["id"])] = item.get("etag")
    view = status.google_view(key)
    edited: list[str] = []
    missing: list[str] = []
    for gid, row in view.items():
        if row.want == DELETED or not row.clean or row.remote != "present":
            continue
        if gid not in listing:
            missing.append(gid)
        elif row.etag and listing[gid] != row.etag:
            edited.append(gid)
    reverts: list[tuple[str, str, str]] = []
    removes: list[str] = []
    for gid in listing:
        v = view.get(gid)
        if v is not None and v.want != DELETED:
            continue
        head = gid.split("_", 1)[0]
        parent = view.get(head)
        if v is None and "_" in gid and parent is not None and parent.want != DELETED:
            reverts.append((gid, head, parent.href))
        else:
            removes.append(gid)
    status.mark(key, edited + missing)
    status.add_reverts(key, reverts)
    if removes:
        actions = [Action("delete", key, cid, gid, DELETED) for gid in removes]
        results = client.batch([request_for(a) for a in actions])
        for gid, result in zip(removes, results, strict=True):
            outcome = "ok" if not isinstance(result, GoogleError) else str(result)
            logger.info("google delete %s event %s (added by hand): %s", key, gid, outcome)
    status.set_calendar(key, last_reconcile=now, acl_hash=None)
    if edited or missing or reverts or removes:
        logger.info(
            "reconcile %s: %d edited, %d deleted by hand, %d occurrences edited, %d added by hand",
            key,
            len(edited),
            len(missing),
            len(reverts),
            len(removes),
        )
    return ReconcileReport(1, len(edited), len(missing), len(removes), len(reverts))


def reconcile(
    mirror: Mirror, progress: Callable[[int, int], None] | None = None
) -> ReconcileReport:
    """Reconcile every Google calendar the bridge made (see module doc); ACLs are checked again
    on the next ``maintain``. A calendar that cannot be listed is that calendar's error.

    Raises:
        NotAuthorized: no usable sign-in.
    """
    client = mirror.google.client()
    rows = [c for c in mirror.status.calendars() if c.google_id]
    totals = ReconcileReport()
    for i, cal in enumerate(rows):
        assert cal.google_id is not None
        try:
            found = reconcile_calendar(
                client, mirror.status, cal.key, cal.google_id, mirror.clock()
            )
        except NotFound:
            logger.warning("google calendar of %s is gone: creating it again", cal.key)
            mirror.status.reset_calendar(cal.key)
            found = ReconcileReport()
        except NotAuthorized:
            raise
        except GoogleError as exc:
            mirror.error(cal.key, f"cannot list the Google calendar: {exc}")
            found = ReconcileReport()
        totals = ReconcileReport(
            totals.calendars + 1,
            totals.edited + found.edited,
            totals.missing + found.missing,
            totals.removed + found.removed,
            totals.reverted + found.reverted,
        )
        if progress is not None:
            progress(i + 1, len(rows))
    return totals
