"""Google calendars and their sharing: created on first need with the shop's zone and the
configured name, found again after a crash by a marker in their description (calendar ids are
chosen by Google, so a lost answer to an insert must not lead to a second calendar), renamed when
the name changes, and their ACL kept equal to the configuration.

ACL facts (Google Calendar API, Acl resource): scope ``user``/``group`` with an e-mail,
``domain`` with a domain name, ``default`` (public) without a value; rule ids look like
``user:alice@example.com``; ``acl.insert`` takes ``sendNotifications``; the owner's rule is
never touched. Sharing needs the ``calendar.acls`` or ``calendar`` scope.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ..google.client import Build, GoogleClient, calendar_link, public_ical_url
from .sources import SourceSpec, Target
from .status import StatusDB

logger = logging.getLogger(__name__)


EMPTY_ACL = Target("", "", SourceSpec("")).acl_hash()


def marker(target: Target) -> str:
    return f"ipoint-bridge:{target.key}"


def list_calendars(client: GoogleClient) -> list[dict[str, Any]]:
    """The account's calendar list (ids, summaries, descriptions, access roles)."""
    out: list[dict[str, Any]] = []
    for page in client.pages(
        lambda s, t: s.calendarList().list(pageToken=t, maxResults=250, showHidden=True)
    ):
        out.extend(page.get("items", []))
    return out


def ensure_calendar(
    client: GoogleClient,
    status: StatusDB,
    target: Target,
    time_zone: str,
    listing: list[dict[str, Any]] | None,
) -> str:
    """The Google calendar id of ``target``, creating the calendar when needed.

    Raises:
        GoogleError: Google refused.
    """
    row = status.calendar(target.key)
    if row is not None and row.google_id:
        return row.google_id
    tag = marker(target)
    entries = listing if listing is not None else list_calendars(client)
    for entry in entries:
        if tag in str(entry.get("description", "")) and entry.get("accessRole") == "owner":
            cid = str(entry["id"])
            logger.info("google calendar %s found again as %s", target.key, cid)
            status.set_calendar(
                target.key, google_id=cid, summary=entry.get("summary"), time_zone=time_zone
            )
            return cid
    body = {
        "summary": target.summary,
        "timeZone": time_zone,
        "description": f"{target.footer} ({tag})",
    }
    created = client.execute(lambda s: s.calendars().insert(body=body))
    cid = str(created["id"])
    # Kept at once: the id is Google's choice and the marker is only the fallback. A new
    # calendar has no rule but its owner's: its ACL is known to be empty.
    status.set_calendar(
        target.key,
        google_id=cid,
        summary=target.summary,
        time_zone=time_zone,
        acl_hash=EMPTY_ACL,
        acl="[]",
    )
    logger.info("google calendar created for %s: %s (%s)", target.key, target.summary, cid)
    return cid


def update_calendar(
    client: GoogleClient, status: StatusDB, target: Target, time_zone: str, cid: str
) -> None:
    """Rename (or re-zone) the calendar when the configuration changed."""
    row = status.calendar(target.key)
    if row is not None and row.summary == target.summary and row.time_zone == time_zone:
        return
    body = {"summary": target.summary, "timeZone": time_zone}
    client.execute(lambda s: s.calendars().patch(calendarId=cid, body=body, fields="id"))
    status.set_calendar(target.key, summary=target.summary, time_zone=time_zone)
    logger.info("google calendar %s renamed to %r", target.key, target.summary)


def _scope_key(scope: dict[str, Any]) -> tuple[str, str]:
    return str(scope.get("type", "")), str(scope.get("value", "") or "").lower()


def sync_acl(
    client: GoogleClient,
    status: StatusDB,
    target: Target,
    cid: str,
    *,
    send_notifications: bool,
) -> int:
    """Make the calendar's ACL equal to ``target.acl``: add missing reader rules, delete every
    other non-owner rule (people removed from the INI lose access). Returns the calls made.

    Raises:
        GoogleError: Google refused (e.g. a sign-in without the ACL scope).
    """
    want = {(r.scope_type, r.scope_value): r.role for r in target.acl}
    have: dict[tuple[str, str], tuple[str, str]] = {}
    calls = 0
    for page in client.pages(lambda s, t: s.acl().list(calendarId=cid, pageToken=t)):
        calls += 1
        for rule in page.get("items", []):
            if rule.get("role") == "owner":
                continue
            have[_scope_key(rule.get("scope", {}))] = (str(rule["id"]), str(rule.get("role")))
    for key, (rule_id, role) in sorted(have.items()):
        if want.get(key) != role:
            client.execute(_acl_delete(cid, rule_id))
            calls += 1
            logger.info("google acl %s: removed %s %s", target.key, key[0], key[1])
    for (stype, svalue), role in sorted(want.items()):
        if have.get((stype, svalue), ("", ""))[1] == role:
            continue
        scope: dict[str, str] = {"type": stype}
        if svalue:
            scope["value"] = svalue
        client.execute(_acl_insert(cid, {"role": role, "scope": scope}, send_notifications))
        calls += 1
        logger.info("google acl %s: %s %s may read", target.key, stype, svalue or "(public)")
    status.set_calendar(
        target.key,
        acl_hash=target.acl_hash(),
        acl=json.dumps([r.as_json() for r in target.acl]),
        public_url=public_ical_url(client.api_root, cid) if target.public else None,
    )
    return calls


def html_link(client_root: str, cid: str) -> str:
    return calendar_link(client_root, cid)


def _acl_delete(cid: str, rule_id: str) -> Build:
    return lambda s: s.acl().delete(calendarId=cid, ruleId=rule_id)


def _acl_insert(cid: str, body: dict[str, Any], notify: bool) -> Build:
    return lambda s: s.acl().insert(calendarId=cid, body=body, sendNotifications=notify)
