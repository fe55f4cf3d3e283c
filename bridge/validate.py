"""The one validation path of every ingest (push API, file import, poller): raw iPoint records
in, ``EventRecord``s out, or every problem found with the record id, field and reason.

Every limit (``[ingest]``) is checked before the work it bounds: a text's length before it is
cleaned, the number of attendees before any login is looked at. Problems quote at most a few
dozen characters of the value, so an answer never grows with a hostile value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from .config import IngestSettings
from .errors import Problem, ValidationError
from .records import LOGIN_RE, LOGIN_RULE, EventRecord, Kind, Status
from .timeutil import TimeParseError, parse_modified, parse_when, zone
from .validate_fields import boolean, clean_text, logins, show, text_of
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
#: Start and end times parsed, by (text, zone): a shop's records share a few thousand (jobs
#: start on the hour), and parsing one and resolving it in its zone cost a third of validating
#: a record. The text is at most 64 characters (``_when``); a refusal is raised, not kept.
_parse_when = lru_cache(maxsize=16384)(parse_when)
_STATUS = {
    "confirmed": "confirmed",
    "tentative": "tentative",
    "cancelled": "cancelled",
    "canceled": "cancelled",
}


class _Checker:
    """Collects problems for one record."""

    def __init__(self, record_id: str | None, line: int | None) -> None:
        self.id = record_id
        self.line = line
        self.problems: list[Problem] = []

    def fail(self, field: str | None, reason: str) -> None:
        self.problems.append(Problem(self.id, field, reason, self.line))


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
    record_id = text_of(raw_id)
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

    user = text_of(raw.get("user"))
    if user is not None:
        user = user.strip()
    if not user:
        c.fail("user", "is required (the technician's login)")
    elif not LOGIN_RE.fullmatch(user):
        c.fail("user", f"{show(user)} is not a login ({LOGIN_RULE})")
        user = None
    attendees = logins(raw.get("attendees"), limits.max_attendees)
    if isinstance(attendees, str):
        c.fail("attendees", attendees)
        attendees = []
    title = clean_text(c.fail, "title", raw.get("title"), limits.max_title_chars, "max_title_chars")
    if not title and not any(p.field == "title" for p in c.problems):
        c.fail("title", "is required")
    kind_raw = (text_of(raw.get("kind")) or "event").strip().lower().replace(" ", "_")
    if kind_raw not in ("event", "work_order"):
        c.fail("kind", "must be work_order or event")
    status_raw = (text_of(raw.get("status")) or "confirmed").strip().lower()
    if status_raw not in _STATUS:
        c.fail("status", "must be confirmed, tentative or cancelled")
    texts: dict[str, str | None] = {
        "user_name": clean_text(
            c.fail, "user_name", raw.get("user_name"), limits.max_title_chars, "max_title_chars"
        )
    }
    for name in TEXT_FIELDS:
        texts[name] = clean_text(
            c.fail, name, raw.get(name), limits.max_text_chars, "max_text_chars"
        )

    tzname = (text_of(raw.get("timezone")) or "").strip() or shop_timezone
    try:
        if not ZONE_RE.fullmatch(tzname):
            raise ValueError(f"{show(tzname)} is not an IANA time zone name like America/Chicago")
        tz = zone(tzname)
    except ValueError as exc:
        c.fail("timezone", str(exc))
        tz = zone(shop_timezone)
        tzname = shop_timezone
    all_day = boolean(raw.get("all_day"))
    if all_day is None:
        c.fail("all_day", "must be true or false")
        all_day = False

    start = _when(c, "start", raw.get("start"), tz, required=True)
    end = _when(c, "end", raw.get("end"), tz, required=False)
    modified = None
    mod_text = text_of(raw.get("modified"))
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
        return _parse_when(value, tz)
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
