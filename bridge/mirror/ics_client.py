"""Reading a plain ICS feed with conditional GET: ``If-None-Match`` with the stored ETag (and
``If-Modified-Since`` when the server gives no ETag); 304 costs nothing. A 200 is split into
items by UID (``uid:<UID>``), each a small VCALENDAR with the VTIMEZONEs it needs, and is always
a full listing: UIDs that vanished were removed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import icalendar

from .caldav_client import SourceError, _safe, auth_headers
from .mapping import MappingProblem, group_by_uid, parse
from .sources import Page, RawItem, SourceSpec

PREFIX = "uid:"


def split(text: str) -> list[RawItem]:
    """One item per UID, each a VCALENDAR with every VTIMEZONE of the feed."""
    cal = parse(text)
    zones = [c for c in cal.subcomponents if c.name == "VTIMEZONE"]
    out: list[RawItem] = []
    for uid, events in group_by_uid(cal).items():
        part = icalendar.Calendar()
        part.add("VERSION", "2.0")
        part.add("PRODID", "-//ipoint-bridge//mirror//EN")
        for zone in zones:
            part.add_component(zone)
        for event in events:
            if not event.get("UID"):
                event.add("UID", uid)
            part.add_component(event)
        out.append(RawItem(PREFIX + uid, None, part.to_ical().decode()))
    return out


async def read(
    session: aiohttp.ClientSession, spec: SourceSpec, position: Mapping[str, Any]
) -> AsyncIterator[Page]:
    """One full page when the feed changed, nothing on 304.

    Raises:
        SourceError: the feed cannot be fetched or parsed.
    """
    headers: dict[str, str] = {"Accept": "text/calendar", **auth_headers(spec)}
    etag = position.get("etag")
    if etag:
        if str(etag).startswith("lm:"):
            headers["If-Modified-Since"] = str(etag)[3:]
        else:
            headers["If-None-Match"] = str(etag)
    try:
        async with session.get(spec.url, headers=headers) as resp:
            if resp.status == 304:
                return
            if resp.status != 200:
                raise SourceError(f"{_safe(spec.url)} answered {resp.status}")
            body = await resp.read()
            new_etag = resp.headers.get("ETag")
            if not new_etag and resp.headers.get("Last-Modified"):
                new_etag = "lm:" + resp.headers["Last-Modified"]
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise SourceError(f"cannot reach {_safe(spec.url)}: {type(exc).__name__}") from exc
    try:
        items = split(body.decode("utf-8", "replace"))
    except MappingProblem as exc:
        raise SourceError(f"{_safe(spec.url)} is not an iCalendar feed: {exc}") from exc
    yield Page(
        items=tuple(items),
        present=frozenset(i.href for i in items),
        position={"etag": new_etag, "sync_token": None, "ctag": None},
        last=True,
    )
