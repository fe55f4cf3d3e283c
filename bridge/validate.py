"""The one validation path of every ingest (push API, file import, poller): raw iPoint records
in, ``EventRecord``s out, or every problem found with the record id, field and reason.

Every limit (``[ingest]``) is checked before the work it bounds: a text's length before it is
cleaned, the number of attendees before any login is looked at. Problems quote at most a few
dozen characters of the value, so an answer never grows with a hostile value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from .config import IngestSettings
from .errors import Problem, ValidationError
from .records import LOGIN_RE, LOGIN_RULE, EventRecord, Kind, Status
from .text import clean
from .timeutil import TimeParseError, parse_modified, parse_when, zone
from .validate_recurrence import parse_exdates, parse_rrule

ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+=~-]{0,199}")
#: IANA names are at most a few dozen characters of these (tzfile(5) and tz-link.html).
ZONE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+/-]{0,63}")
DEFAULT_LIMITS = IngestSettings()
TEXT_FIELDS = ("location", "description", "customer", "phone", "url", "number", "work_status")
FIELDS = frozenset(
    {
        "id",
        "user",
        "user_name",
        "attendees",
        "kind",
        "title",
        "start",
        "end",
        "all_day",
        "timezone",
        "status",
        "rrule",
        "exdates",
        "modified",
        *TEXT_FIELDS,
    }
)
_STATUS = {
    "confirmed": "confirmed",
    "tentative": "tentative",
    "cancelled": "cancelled",
    "canceled": "cancelled",
}
_TRUE = {"1", "yes", "true", "y", "on"}
_FALSE = {"0", "no", "false", "n", "off", ""}


class _Checker:
    """Collects problems for one record."""

    def __init__(self, record_id: str | None, line: int | None) -> None:
        self.id = record_id
        self.line = line
        self.problems: list[Problem] = []

    def fail(self, field: str | None, reason: str) -> None:
        self.problems.append(Problem(self.id, field, reason, self.line))


def show(value: object) -> str:
    """A value quoted in a problem, cut to a few dozen characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if abs(value) < 10**20 else None
    if isinstance(value, float):
        return str(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return value
    return None


def _logins(value: object, limit: int) -> list[str] | str:
    """The attendee logins, or why they are refused; the count is checked before any login is
    read, so a list of 20,000 costs nothing."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items: list[object] = [x for x in (p.strip() for p in value.split(",")) if x]
    elif isinstance(value, list):
        items = value
    else:
        return "must be a list of logins or a comma-separated string"
    if len(items) > limit:
        return f"{len(items)} attendees, more than {limit} ([ingest] max_attendees)"
    out: list[str] = []
    for item in items:
        if not isinstance(item, str) or not LOGIN_RE.fullmatch(item.strip()):
            return f"{show(item)} is not a login ({LOGIN_RULE})"
        out.append(item.strip())
    return out


def _bool(value: object) -> bool | None:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    return None


def validate_record(
    raw: object,
    shop_timezone: str,
    *,
    line: int | None = None,
    path_id: str | None = None,
    limits: IngestSettings = DEFAULT_LIMITS,
) -> tuple[EventRecord | None, list[Problem]]:
    """Check one raw record. Returns the record, or None and the problems found."""
    if not isinstance(raw, Mapping):
        return None, [Problem(path_id, None, "a record must be a JSON object", line)]
    raw_id = raw.get("id", path_id)
    record_id = _text(raw_id)
    if record_id is not None and not ID_RE.fullmatch(record_id):
        bad_id, record_id = record_id, None
    else:
        bad_id = None
    c = _Checker(record_id if record_id else path_id, line)
    unknown = [str(key) for key in raw if key not in FIELDS]
    if unknown:
        c.fail(
            show(unknown[0])[1:-1] if len(unknown) == 1 else f"{len(unknown)} fields",
            "unknown field (see docs/ingest.md for the fields)"
            + ("" if len(unknown) == 1 else f": {show(unknown)}"),
        )
    if bad_id is not None:
        c.fail(
            "id",
            f"{show(bad_id)} must be 1-200 letters, digits or . _ : @ + = ~ -, "
            "starting with a letter or digit",
        )
    elif not record_id:
        c.fail("id", "is required")
    elif path_id is not None and record_id != path_id:
        c.fail("id", f"does not match the id in the URL ({show(path_id)})")

    user = _text(raw.get("user"))
    if user is not None:
        user = user.strip()
    if not user:
        c.fail("user", "is required (the technician's login)")
    elif not LOGIN_RE.fullmatch(user):
        c.fail("user", f"{show(user)} is not a login ({LOGIN_RULE})")
        user = None
    attendees = _logins(raw.get("attendees"), limits.max_attendees)
    if isinstance(attendees, str):
        c.fail("attendees", attendees)
        attendees = []
    title = _clean_text(c, "title", raw.get("title"), limits.max_title_chars)
    if not title:
        c.fail("title", "is required")
    kind_raw = (_text(raw.get("kind")) or "event").strip().lower().replace(" ", "_")
    if kind_raw not in ("event", "work_order"):
        c.fail("kind", "must be work_order or event")
    status_raw = (_text(raw.get("status")) or "confirmed").strip().lower()
    if status_raw not in _STATUS:
        c.fail("status", "must be confirmed, tentative or cancelled")
    texts: dict[str, str | None] = {
        "user_name": _clean_text(c, "user_name", raw.get("user_name"), limits.max_title_chars)
    }
    for name in TEXT_FIELDS:
        texts[name] = _clean_text(c, name, raw.get(name), limits.max_text_chars)

    tzname = (_text(raw.get("timezone")) or "").strip() or shop_timezone
    try:
        if not ZONE_RE.fullmatch(tzname):
            raise ValueError(f"{show(tzname)} is not an IANA time zone name like America/Chicago")
        tz = zone(tzname)
    except ValueError as exc:
        c.fail("timezone", str(exc))
        tz = zone(shop_timezone)
        tzname = shop_timezone
    all_day = _bool(raw.get("all_day"))
    if all_day is None:
        c.fail("all_day", "must be true or false")
        all_day = False

    start = _when(c, "start", raw.get("start"), tz, required=True)
    end = _when(c, "end", raw.get("end"), tz, required=False)
    modified = None
    mod_text = _text(raw.get("modified"))
    if raw.get("modified") not in (None, "") and mod_text is None:
        c.fail("modified", "must be text")
    elif mod_text:
        try:
            modified = parse_modified(mod_text, tz)
        except TimeParseError as exc:
            c.fail("modified", str(exc) + " (or MM/dd/yyyy HH:mm:ss)")

    span = _span(c, start, end, all_day, tz)
    rrule = parse_rrule(
        c.fail, raw.get("rrule"), span[0] if span else None, tz, limits.max_instances
    )
    exdates = parse_exdates(
        c.fail, raw.get("exdates"), span[0] if span else None, tz, limits.max_instances
    )
    if c.problems or span is None or not record_id or not user or not title:
        return None, c.problems
    owner_attendees = tuple(dict.fromkeys(a for a in attendees if a != user))
    kind: Kind = "work_order" if kind_raw == "work_order" else "event"
    status: Status = _STATUS[status_raw]  # type: ignore[assignment]
    return EventRecord(
        id=record_id,
        user=user,
        title=title,
        start=span[0],
        end=span[1],
        timezone=tzname,
        all_day=isinstance(span[0], date) and not isinstance(span[0], datetime),
        user_name=texts["user_name"],
        attendees=owner_attendees,
        kind=kind,
        location=texts["location"],
        description=texts["description"],
        customer=texts["customer"],
        phone=texts["phone"],
        url=texts["url"],
        number=texts["number"],
        work_status=texts["work_status"],
        status=status,
        rrule=rrule,
        exdates=exdates,
        modified=modified,
    ), []


def _clean_text(c: _Checker, field: str, value: object, limit: int) -> str | None:
    """A text field cleaned for iCalendar and XML (``bridge.text``), or None when empty;
    its length is checked first, on the raw value."""
    if value is None:
        return None
    text = _text(value)
    if text is None:
        c.fail(field, "must be text")
        return None
    if len(text) > limit:
        c.fail(field, f"is {len(text)} characters, longer than {limit} ([ingest] limits)")
        return None
    text = clean(text).strip()
    return text or None


def _when(
    c: _Checker, field: str, value: object, tz: Any, *, required: bool
) -> datetime | date | None:
    if value is None or value == "":
        if required:
            c.fail(field, "is required")
        return None
    if not isinstance(value, str) or len(value) > 64:
        c.fail(field, "must be text like 2026-12-01T09:00")
        return None
    try:
        return parse_when(value, tz)
    except TimeParseError as exc:
        c.fail(field, str(exc))
        return None


def _span(
    c: _Checker, start: datetime | date | None, end: datetime | date | None, all_day: bool, tz: Any
) -> tuple[datetime | date, datetime | date] | None:
    if start is None:
        return None
    timed = isinstance(start, datetime)
    if all_day or not timed:
        first = start.date() if isinstance(start, datetime) else start
        if end is None:
            last = first
        elif isinstance(end, datetime):
            # A timed end on an all-day record: midnight means "up to that day", exclusive.
            local = end.astimezone(tz)
            last = local.date() - timedelta(days=1) if local.time() == time() else local.date()
            last = max(last, first)
        else:
            last = end
        if last < first:
            c.fail("end", "the last day is before the first day")
            return None
        return first, last + timedelta(days=1)
    if end is None:
        c.fail("end", "is required for a timed event")
        return None
    if not isinstance(end, datetime):
        c.fail(
            "end", "is a date but start is a time: give both as dates (all-day) or both as times"
        )
        return None
    assert isinstance(start, datetime)
    if end < start:
        c.fail("end", "is before start")
        return None
    return start, end


def validate_batch(
    raws: Iterable[tuple[int | None, object]],
    shop_timezone: str,
    limits: IngestSettings = DEFAULT_LIMITS,
) -> list[EventRecord]:
    """Validate records (each with its line number, if any); all or nothing.

    Raises:
        ValidationError: listing every problem of every record, duplicates included.
    """
    records: list[EventRecord] = []
    problems: list[Problem] = []
    seen: dict[str, int | None] = {}
    for line, raw in raws:
        record, found = validate_record(raw, shop_timezone, line=line, limits=limits)
        problems.extend(found)
        if record is None:
            continue
        if record.id in seen:
            where = f" (first on line {seen[record.id]})" if seen[record.id] else ""
            problems.append(Problem(record.id, "id", "appears twice in this batch" + where, line))
            continue
        seen[record.id] = line
        records.append(record)
    if problems:
        raise ValidationError(problems)
    return records


def check_ids(ids: Sequence[object]) -> list[str]:
    """Validate a list of ids to delete."""
    problems = [
        Problem(show(i), "id", "is not a valid record id")
        for i in ids
        if not isinstance(i, str) or not ID_RE.fullmatch(i)
    ]
    if problems:
        raise ValidationError(problems)
    return [str(i) for i in ids]
