"""Validation of event bodies, as the ``Event`` resource reference and the errors page describe.

- ``id`` (client-chosen): base32hex characters ``a-v`` and ``0-9``, 5 to 1024 characters; else
  400 ``invalid``. Instance ids ``<recurringId>_<YYYYMMDDTHHMMSSZ|YYYYMMDD>`` are Google's own
  naming of recurring-event instances and are accepted only for instances of an existing series.
- ``start``/``end``: both present; both ``date`` or both ``dateTime``; a ``dateTime`` needs an
  offset unless ``timeZone`` is given; ``timeZone`` must be an IANA name; a recurring event needs
  ``timeZone`` (it is the zone the recurrence expands in); ``end`` before ``start`` is 400
  ``timeRangeEmpty`` (for all-day events, the exclusive end must be after the start).
- ``recurrence``: only RRULE, EXRULE, RDATE and EXDATE lines (no DTSTART/DTEND).
- ``extendedProperties``: string values; keys over 44 characters are dropped and values over 1024
  characters truncated, silently, as the extended-properties guide says; at most 300 properties
  and 32kB in all.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from google_emulator import errors
from google_emulator.times import localize, parse_date, parse_datetime, zone

JSON = dict[str, Any]

ID_RE = re.compile(r"^[a-v0-9]{5,1024}$")
INSTANCE_RE = re.compile(r"^(?P<rid>[a-v0-9]{5,1024})_(?P<stamp>\d{8}(?:T\d{6}Z)?)$")
_RECURRENCE_RE = re.compile(r"^(RRULE|EXRULE|RDATE|EXDATE)[:;]", re.IGNORECASE)
_STATUSES = ("confirmed", "tentative", "cancelled")
_COLORS = {str(n) for n in range(1, 12)}
#: Fields a client may write; everything else in a body is read-only or unknown and ignored.
WRITABLE = (
    "summary",
    "description",
    "location",
    "colorId",
    "start",
    "end",
    "endTimeUnspecified",
    "recurrence",
    "transparency",
    "visibility",
    "attendees",
    "extendedProperties",
    "reminders",
    "status",
    "guestsCanInviteOthers",
    "guestsCanModify",
    "guestsCanSeeOtherGuests",
    "anyoneCanAddSelf",
    "source",
    "privateCopy",
    "locked",
    "attachments",
    "originalStartTime",
)


def check_id(event_id: Any) -> str:
    if not isinstance(event_id, str) or not ID_RE.match(event_id):
        raise errors.invalid("Invalid resource id value.", location="id")
    return event_id


def edt_value(edt: JSON, cal_tz: str) -> date | datetime:
    """The ``date`` or the aware ``datetime`` of a validated EventDateTime."""
    if "date" in edt:
        return parse_date(edt["date"])
    value = parse_datetime(edt["dateTime"])
    if value.tzinfo is None:
        tz = zone(edt.get("timeZone") or cal_tz)
        assert tz is not None
        value = localize(value, tz)
    return value


def _edt(raw: Any, which: str, recurring: bool) -> JSON:
    if not isinstance(raw, dict) or not (raw.get("date") or raw.get("dateTime")):
        raise errors.required(f"Missing {which} time.", location=which)
    tz_name = raw.get("timeZone")
    if tz_name is not None and (not isinstance(tz_name, str) or zone(tz_name) is None):
        raise errors.invalid(f"Invalid time zone definition for {which} time.", location=which)
    if raw.get("date") and raw.get("dateTime"):
        raise errors.bad_request(f"Invalid {which} time.", location=which)
    if raw.get("date"):
        try:
            parse_date(str(raw["date"]))
        except ValueError as exc:
            raise errors.bad_request(f"Invalid {which} time.", location=which) from exc
        out: JSON = {"date": str(raw["date"]).strip()}
        if tz_name:
            out["timeZone"] = tz_name
        return out
    try:
        value = parse_datetime(str(raw["dateTime"]))
    except ValueError as exc:
        raise errors.bad_request(f"Invalid {which} time.", location=which) from exc
    if (value.tzinfo is None and not tz_name) or (recurring and not tz_name):
        raise errors.required(f"Missing time zone definition for {which} time.", location=which)
    out = {"dateTime": str(raw["dateTime"]).strip()}
    if tz_name:
        out["timeZone"] = tz_name
    return out


def _times(body: JSON, cal_tz: str) -> None:
    recurring = bool(body.get("recurrence"))
    start = _edt(body.get("start"), "start", recurring)
    end = _edt(body.get("end"), "end", recurring)
    if ("date" in start) != ("date" in end):
        raise errors.bad_request(
            "Start and end times must either both be date or both be dateTime."
        )
    first, last = edt_value(start, cal_tz), edt_value(end, cal_tz)
    if isinstance(first, datetime) and isinstance(last, datetime):
        empty = last < first
    else:
        empty = last <= first
    if empty:
        raise errors.time_range_empty()
    body["start"], body["end"] = start, end


def _recurrence(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(line, str) for line in value):
        raise errors.invalid("Invalid recurrence rule.", location="recurrence")
    lines = [line.strip() for line in value if line.strip()]
    for line in lines:
        if not _RECURRENCE_RE.match(line):
            raise errors.invalid("Invalid recurrence rule.", location="recurrence")
    return lines


def _extended(value: Any) -> JSON:
    if not isinstance(value, dict):
        raise errors.invalid(location="extendedProperties")
    out: JSON = {}
    for kind in ("private", "shared"):
        props = value.get(kind)
        if props is None:
            continue
        if not isinstance(props, dict):
            raise errors.invalid(location=f"extendedProperties.{kind}")
        clean: dict[str, str] = {}
        for key, item in props.items():
            if item is None:
                continue
            if not isinstance(item, str):
                raise errors.invalid(location=f"extendedProperties.{kind}")
            if len(key) <= 44:
                clean[key] = item[:1024]
        out[kind] = clean
    pairs = [(k, v) for props in out.values() for k, v in props.items()]
    if len(pairs) > 300 or sum(len(k) + len(v) for k, v in pairs) > 32 * 1024:
        # The guide's limit (300 properties, 32kB); what Google answers past it is not documented.
        raise errors.invalid("Too many extended properties.", location="extendedProperties")
    return out


def _attendees(value: Any) -> list[JSON]:
    if not isinstance(value, list):
        raise errors.invalid(location="attendees")
    for attendee in value:
        if not isinstance(attendee, dict) or not attendee.get("email"):
            raise errors.required("Missing attendee email.", location="attendees")
    return [dict(a) for a in value]


def clean(raw: JSON, cal_tz: str) -> JSON:
    """The writable fields of ``raw``, validated; raises ``ApiError``."""
    body: JSON = {k: raw[k] for k in WRITABLE if k in raw and raw[k] is not None}
    if "recurrence" in body:
        body["recurrence"] = _recurrence(body["recurrence"])
        if not body["recurrence"]:
            del body["recurrence"]
    _times(body, cal_tz)
    status = body.get("status", "confirmed")
    if status not in _STATUSES:
        raise errors.invalid(f"Invalid value for: {status} is not a valid value", location="status")
    body["status"] = status
    if "colorId" in body and str(body["colorId"]) not in _COLORS:
        raise errors.invalid("Invalid color id value.", location="colorId")
    if "extendedProperties" in body:
        body["extendedProperties"] = _extended(body["extendedProperties"])
    if "attendees" in body:
        body["attendees"] = _attendees(body["attendees"])
    if "transparency" in body and body["transparency"] not in ("opaque", "transparent"):
        raise errors.invalid(location="transparency")
    if "visibility" in body and body["visibility"] not in (
        "default",
        "public",
        "private",
        "confidential",
    ):
        raise errors.invalid(location="visibility")
    return body


def merge_patch(old: Any, new: Any) -> Any:
    """Patch semantics: objects merge recursively, arrays and scalars replace, null clears."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return new
    merged = dict(old)
    for key, value in new.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged
