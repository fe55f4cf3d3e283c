"""VEVENT -> Google event body: what a technician sees in Google, decided in one place.

- summary, location; description plus a line saying edits in Google are overwritten;
- status: CONFIRMED/TENTATIVE map to Google's; a CANCELLED event is deleted, because Google's
  ``cancelled`` *is* its deletion (events resource, ``status``); a cancelled overridden instance
  becomes a deleted instance, which is how Google shows a cancelled occurrence;
- ``colorId`` by ``X-IPOINT-KIND`` ([google] color_work_order / color_event);
- timed: ``dateTime`` in the event's own zone with its offset, plus ``timeZone`` (an IANA name:
  the TZID itself, a Windows name translated, else the shop's zone); floating times are the
  shop's; all-day: ``date`` with the exclusive end RFC 5545 and Google share;
- RRULE/EXRULE/RDATE/EXDATE -> ``recurrence`` (Google forbids DTSTART/DTEND lines there);
  a VEVENT with RECURRENCE-ID -> the series' instance (see ``ids``);
- never ``attendees``: each technician's copy lives in their own calendar, and attendees would
  e-mail invitations and spend Google's external-invitation limit;
- a private extended property marks the bridge's events so ``reconcile`` can list them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from . import ids
from .normalise import MAPPING_VERSION, body_hash, item_hash

MARK_KEY = "ipointBridge"
MARK_VALUE = "1"
FOREVER = 2**53
"""End (epoch seconds) of a series without an end."""

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class MapContext:
    """What the mapping needs besides the VEVENT: the source's key (part of every id), the
    shop's zone for floating times, colours, the footer line."""

    source: str
    shop_tz: str
    color_work_order: str = ""
    color_event: str = ""
    footer: str = "Managed by iPoint: changes made here in Google are overwritten."

    def fingerprint(self) -> str:
        """Everything besides the VEVENT that shapes a body (salt of item hashes)."""
        return "|".join(
            (
                MAPPING_VERSION,
                self.source,
                self.shop_tz,
                self.color_work_order,
                self.color_event,
                self.footer,
            )
        )


@dataclass(frozen=True, slots=True)
class Unit:
    """One Google event the source wants: a single event or series (``series`` is None) or an
    overridden instance of ``series``. ``want`` is ``event``, ``deleted``, or ``revert`` (an
    instance whose override left the source: it goes back to the series' content)."""

    gid: str
    uid: str
    series: str | None
    want: str
    body: JSON | None
    hash: str
    end_ts: int

    def body_json(self) -> str | None:
        return None if self.body is None else json.dumps(self.body, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class ItemUnits:
    """Everything one source item (one UID's VEVENTs) maps to."""

    uid: str
    item_hash: str
    units: tuple[Unit, ...]


class MappingProblem(ValueError):
    """A VEVENT the mirror cannot send (reported with its UID; the item is left as it was)."""


def zone_name(value: datetime, tzid: str | None, shop_tz: str) -> str:
    """An IANA name for an aware datetime's zone."""
    key = getattr(value.tzinfo, "key", None)
    if isinstance(key, str) and key:
        return key
    for name in (tzid, WINDOWS_TO_OLSON.get(tzid or "")):
        if name:
            try:
                ZoneInfo(name)
                return name
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return shop_tz


def _aware(value: datetime, shop_tz: str) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(shop_tz))


def when(value: date | datetime, tzid: str | None, shop_tz: str) -> JSON:
    """Google's EventDateTime for a DTSTART/DTEND/RECURRENCE-ID value."""
    if not isinstance(value, datetime):
        return {"date": value.isoformat()}
    aware = _aware(value, shop_tz)
    name = zone_name(aware, tzid, shop_tz)
    local = aware.astimezone(ZoneInfo(name))
    return {"dateTime": local.isoformat(timespec="seconds"), "timeZone": name}


def _tzid(event: icalendar.Event, prop: str) -> str | None:
    value = event.get(prop)
    params = getattr(value, "params", None)
    return str(params["TZID"]) if params and "TZID" in params else None


def _times(event: icalendar.Event) -> tuple[date | datetime, date | datetime]:
    if "DTSTART" not in event:
        raise MappingProblem("no DTSTART")
    start = event.decoded("DTSTART")
    if "DTEND" in event:
        end = event.decoded("DTEND")
    elif "DURATION" in event:
        end = start + event.decoded("DURATION")
    else:
        # RFC 5545 3.6.1: a date lasts one day, a date-time takes no time.
        end = start + timedelta(days=1) if not isinstance(start, datetime) else start
    if not isinstance(start, datetime):
        end_d = end.date() if isinstance(end, datetime) else end
        return start, end_d if end_d > start else start + timedelta(days=1)
    if not isinstance(end, datetime):
        end = datetime.combine(end, start.time(), start.tzinfo)
    if end.tzinfo is None and start.tzinfo is not None:
        end = end.replace(tzinfo=start.tzinfo)
    return start, end if _cmp(end) >= _cmp(start) else start


def _cmp(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _date_list(
    event: icalendar.Event, prop: str, start: date | datetime, name: str, shop_tz: str
) -> list[str]:
    """Values of RDATE/EXDATE as strings in the series' own form (zone or date)."""
    raw = event.get(prop)
    if raw is None:
        return []
    out: list[str] = []
    for entry in raw if isinstance(raw, list) else [raw]:
        for item in getattr(entry, "dts", []):
            value = item.dt
            if isinstance(value, tuple):  # RDATE periods: not supported by Google either
                continue
            if isinstance(start, datetime):
                if not isinstance(value, datetime):
                    value = datetime.combine(value, start.time(), start.tzinfo)
                local = _aware(value, shop_tz).astimezone(ZoneInfo(name))
                out.append(local.strftime("%Y%m%dT%H%M%S"))
            else:
                out.append(
                    (value.date() if isinstance(value, datetime) else value).strftime("%Y%m%d")
                )
    return sorted(set(out))


def recurrence(event: icalendar.Event, start: date | datetime, shop_tz: str) -> list[str]:
    lines: list[str] = []
    for prop in ("RRULE", "EXRULE"):
        raw = event.get(prop)
        for rule in raw if isinstance(raw, list) else ([raw] if raw is not None else []):
            lines.append(f"{prop}:{rule.to_ical().decode()}")
    if not lines:
        return []
    name = ""
    if isinstance(start, datetime):
        name = zone_name(_aware(start, shop_tz), _tzid(event, "DTSTART"), shop_tz)
    for prop in ("RDATE", "EXDATE"):
        values = _date_list(event, prop, start, name, shop_tz)
        if values:
            head = f"{prop};TZID={name}" if name else f"{prop};VALUE=DATE"
            lines.append(f"{head}:{','.join(values)}")
    return lines


def _text(event: icalendar.Event, prop: str) -> str:
    value = event.get(prop)
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0]
    return str(value).strip()


def _end_ts(end: date | datetime, shop_tz: str) -> int:
    if isinstance(end, datetime):
        return int(_aware(end, shop_tz).timestamp())
    return int(datetime.combine(end, datetime.min.time(), ZoneInfo(shop_tz)).timestamp())


def event_body(event: icalendar.Event, ctx: MapContext) -> tuple[JSON, int]:
    """The Google body of one VEVENT (without ``id``) and its end for ``repush --future``."""
    start, end = _times(event)
    body: JSON = {"summary": _text(event, "SUMMARY")}
    description = _text(event, "DESCRIPTION")
    footer = f"— {ctx.footer}" if ctx.footer else ""
    body["description"] = f"{description}\n\n{footer}" if description else footer
    location = _text(event, "LOCATION")
    if location:
        body["location"] = location
    body["start"] = when(start, _tzid(event, "DTSTART"), ctx.shop_tz)
    body["end"] = when(end, _tzid(event, "DTEND") or _tzid(event, "DTSTART"), ctx.shop_tz)
    status = _text(event, "STATUS").upper()
    body["status"] = "tentative" if status == "TENTATIVE" else "confirmed"
    transp = _text(event, "TRANSP").upper()
    body["transparency"] = "transparent" if transp == "TRANSPARENT" else "opaque"
    klass = _text(event, "CLASS").upper()
    if klass in ("PRIVATE", "CONFIDENTIAL", "PUBLIC"):
        body["visibility"] = klass.lower()
    kind = _text(event, "X-IPOINT-KIND").lower()
    color = ctx.color_work_order if kind == "work_order" else ctx.color_event
    if color:
        body["colorId"] = color
    url = _text(event, "URL")
    if url.startswith(("http://", "https://")):
        body["source"] = {"title": body["summary"][:100] or "iPoint", "url": url}
    rules = recurrence(event, start, ctx.shop_tz)
    end_ts = _end_ts(end, ctx.shop_tz)
    if rules:
        body["recurrence"] = rules
        end_ts = FOREVER
    body["extendedProperties"] = {"private": {MARK_KEY: MARK_VALUE}}
    return body, end_ts


def _cancelled(event: icalendar.Event) -> bool:
    return _text(event, "STATUS").upper() == "CANCELLED"


def map_group(
    uid: str, events: Iterable[icalendar.Event], ctx: MapContext, *, digest: str = ""
) -> ItemUnits:
    """The units of one UID: the series (or single event) and its overridden instances.

    Raises:
        MappingProblem: a VEVENT that cannot be sent; nothing of this UID should change.
    """
    events = list(events)
    masters = [e for e in events if "RECURRENCE-ID" not in e]
    if len(masters) > 1:
        raise MappingProblem(f"{len(masters)} VEVENTs share UID {uid!r} without RECURRENCE-ID")
    series = ids.event_id(ctx.source, uid)
    units: list[Unit] = []
    if masters:
        master = masters[0]
        if _cancelled(master):
            units.append(Unit(series, uid, None, "deleted", None, "deleted", 0))
        else:
            body, end_ts = event_body(master, ctx)
            units.append(Unit(series, uid, None, "event", body, body_hash(body), end_ts))
    for event in events:
        if "RECURRENCE-ID" not in event:
            continue
        rid = event.decoded("RECURRENCE-ID")
        rid_tz = _tzid(event, "RECURRENCE-ID")
        if isinstance(rid, datetime):
            rid = _aware(rid, ctx.shop_tz)
        if not masters:
            # An override without its series (a source that shares one occurrence): mirror it
            # as a plain event of its own.
            gid = ids.event_id(ctx.source, f"{uid}\x00{ids.instance_suffix(rid)}")
            body, end_ts = event_body(event, ctx)
            if _cancelled(event):
                units.append(Unit(gid, uid, None, "deleted", None, "deleted", 0))
            else:
                units.append(Unit(gid, uid, None, "event", body, body_hash(body), end_ts))
            continue
        gid = ids.instance_id(series, rid)
        original = when(rid, rid_tz, ctx.shop_tz)
        if _cancelled(event):
            units.append(Unit(gid, uid, series, "deleted", None, "deleted", 0))
            continue
        body, end_ts = event_body(event, ctx)
        body.pop("recurrence", None)
        body["recurringEventId"] = series
        body["originalStartTime"] = original
        units.append(Unit(gid, uid, series, "event", body, body_hash(body), end_ts))
    return ItemUnits(uid, digest or item_hash(events, ctx.fingerprint()), tuple(units))


def revert_body(series_body: Mapping[str, Any], instance_gid: str) -> JSON:
    """The body that puts one instance back to its series' content (an override removed from
    the source, or an occurrence edited by hand in Google)."""
    suffix = instance_gid.rsplit("_", 1)[1]
    body: JSON = {k: v for k, v in series_body.items() if k not in ("recurrence", "id")}
    start, end = series_body["start"], series_body["end"]
    body["recurringEventId"] = instance_gid.rsplit("_", 1)[0]
    if "date" in start:
        day = datetime.strptime(suffix, "%Y%m%d").date()
        length = date.fromisoformat(end["date"]) - date.fromisoformat(start["date"])
        body["start"] = {"date": day.isoformat()}
        body["end"] = {"date": (day + length).isoformat()}
        body["originalStartTime"] = {"date": day.isoformat()}
        return body
    tz = ZoneInfo(start.get("timeZone") or "UTC")
    at = datetime.strptime(suffix, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).astimezone(tz)
    length_t = datetime.fromisoformat(end["dateTime"]) - datetime.fromisoformat(start["dateTime"])
    first = {"dateTime": at.isoformat(timespec="seconds"), "timeZone": start.get("timeZone")}
    body["start"] = first
    body["end"] = {
        "dateTime": (at + length_t).astimezone(tz).isoformat(timespec="seconds"),
        "timeZone": end.get("timeZone") or start.get("timeZone"),
    }
    body["originalStartTime"] = dict(first)
    return body


def group_by_uid(calendar: icalendar.Calendar) -> dict[str, list[icalendar.Event]]:
    """VEVENTs of a calendar by UID (a VEVENT without UID gets one from its content, so a feed
    that omits UIDs still mirrors stably)."""
    groups: dict[str, list[icalendar.Event]] = {}
    for event in calendar.walk("VEVENT"):
        assert isinstance(event, icalendar.Event)
        uid = _text(event, "UID")
        if not uid:
            uid = "nouid-" + item_hash([event])
        groups.setdefault(uid, []).append(event)
    return groups


_ZONE_BLOCK = re.compile(r"BEGIN:VTIMEZONE\r?\n(.*?)END:VTIMEZONE\r?\n", re.S)
_TZID_LINE = re.compile(r"^TZID[^:\r\n]*:([^\r\n]*)\r?$", re.M)


@lru_cache(maxsize=512)
def _is_iana(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def without_known_zones(text: str) -> str:
    """The text without VTIMEZONE blocks of IANA zones. icalendar resolves such TZIDs from
    the system's zone database anyway (and prefers it over the block); parsing the block is
    most of the cost of a small item (a bridge VTIMEZONE spans 1970-2037)."""

    def drop(match: re.Match[str]) -> str:
        tzid = _TZID_LINE.search(match.group(1))
        return "" if tzid and _is_iana(tzid.group(1).strip()) else match.group(0)

    return _ZONE_BLOCK.sub(drop, text)


def parse(text: str | bytes) -> icalendar.Calendar:
    """Parse iCalendar text. Raises ``MappingProblem`` when it is not iCalendar."""
    if isinstance(text, str):
        text = without_known_zones(text)
    try:
        return icalendar.Calendar.from_ical(text)
    except (ValueError, KeyError, IndexError) as exc:
        raise MappingProblem(f"not valid iCalendar: {exc}") from exc
