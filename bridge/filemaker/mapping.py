"""One FileMaker record -> the raw ingest record that ``bridge.validate`` takes (pure, no I/O).

A source's ``field.<ingest field>`` map names the FileMaker field of each ingest field. Dates,
times and timestamps are read in whichever of FileMaker's forms they come (US or ISO, see
values.py) and handed on as naive ISO wall times, so validation reads them in the shop's zone by
its one DST rule (02:30 on the spring-forward day is 03:30 daylight time; 01:30 on the fall-back
day is the first, daylight, one). A start split into ``start_date`` + ``start_time`` is joined; a
date alone is all-day; an ``end_time`` with no end date ends on the start's day. Attendees come
from a portal's rows or from one field holding a list. Problems name the bridge id (or
FileMaker's recordId when the key is unreadable), the FileMaker field and the value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from ..config import IngestSettings
from ..errors import Problem
from ..filemaker_settings import FileMakerSettings
from ..records import EventRecord
from ..validate import DEFAULT_LIMITS, validate_record
from .values import (
    ValueFormatError,
    as_text,
    clean_text,
    parse_date,
    parse_time,
    parse_timestamp,
    split_values,
)

T = TypeVar("T")

#: Ingest fields read as times, not copied as text.
_TIMES = ("start", "end", "start_date", "start_time", "end_date", "end_time")


@dataclass(frozen=True, slots=True)
class FileMakerRecord:
    """A record as the Data API (or an export row) gives it: fields by FileMaker name, portal
    rows by portal name (``Table::Field`` keys), and FileMaker's own recordId and modId."""

    fields: Mapping[str, object]
    portals: Mapping[str, Sequence[Mapping[str, object]]] = field(default_factory=dict)
    record_id: str = ""
    mod_id: str = ""

    @classmethod
    def from_data_api(cls, data: Mapping[str, object]) -> FileMakerRecord:
        """From one item of a Data API answer's ``response.data``; malformed parts read empty."""
        fields = data.get("fieldData")
        portals = data.get("portalData")
        return cls(
            fields=fields if isinstance(fields, Mapping) else {},
            portals=portals if isinstance(portals, Mapping) else {},
            record_id=as_text(data.get("recordId")),
            mod_id=as_text(data.get("modId")),
        )


class _Reader:
    def __init__(self, record: FileMakerRecord, source: FileMakerSettings) -> None:
        self.record = record
        self.source = source
        self.problems: list[Problem] = []
        key = self.text_of(source.id_field).strip()
        self.id = source.id_prefix + key if key else None
        if not key:
            self.fail(source.id_field, "is empty: the record has no key")

    def fail(self, fm_field: str, reason: str) -> None:
        where = self.id or (f"recordId {self.record.record_id}" if self.record.record_id else None)
        self.problems.append(Problem(where, fm_field, reason))

    def text_of(self, fm_field: str) -> str:
        if fm_field not in self.record.fields:
            self.fail(fm_field, "is not on the layout")
            return ""
        value = self.record.fields[fm_field]
        if isinstance(value, list | dict):
            self.fail(fm_field, f"holds {type(value).__name__}, not a value")
            return ""
        return as_text(value)

    def mapped(self, ingest: str) -> str:
        name = self.source.fields.get(ingest)
        return self.text_of(name).strip() if name else ""

    def parsed(self, ingest: str, parse: Callable[[str], T]) -> T | None:
        text = self.mapped(ingest)
        if not text:
            return None
        try:
            return parse(text)
        except ValueFormatError as exc:
            self.fail(self.source.fields[ingest], str(exc))
            return None


def _when(
    reader: _Reader, edge: str, start_day: dt.date | None
) -> tuple[str | None, dt.date | None]:
    """The ingest text of ``start`` or ``end``, and the day it falls on."""
    if edge in reader.source.fields:
        value = reader.parsed(edge, parse_timestamp)
        if not isinstance(value, dt.datetime):
            return None, None
        if value.time() == dt.time(0) and ":" not in reader.mapped(edge):
            return value.date().isoformat(), value.date()
        return value.isoformat(), value.date()
    day = reader.parsed(f"{edge}_date", parse_date)
    clock = reader.parsed(f"{edge}_time", parse_time)
    if not isinstance(day, dt.date) and isinstance(clock, dt.time) and start_day is not None:
        day = start_day  # an end time alone ends on the start's day
    if not isinstance(day, dt.date):
        if isinstance(clock, dt.time):
            reader.fail(
                reader.source.fields.get(f"{edge}_date", f"{edge}_date"),
                "is empty but the time is set",
            )
        return None, None
    if not isinstance(clock, dt.time):
        return day.isoformat(), day
    return dt.datetime.combine(day, clock).isoformat(), day


def _attendees(reader: _Reader) -> list[str]:
    source, record = reader.source, reader.record
    if source.attendees_portal:
        rows = record.portals.get(source.attendees_portal)
        if rows is None:
            reader.fail(source.attendees_portal, "is not a portal on the layout")
            return []
        logins = []
        for row in rows:
            value = row.get(source.attendees_field) if isinstance(row, Mapping) else None
            if value is None:
                reader.fail(source.attendees_field, "is not a field of the portal")
                return []
            logins += split_values(as_text(value))
        return logins
    return split_values(reader.mapped("attendees")) if "attendees" in source.fields else []


def to_ingest(
    record: FileMakerRecord, source: FileMakerSettings
) -> tuple[dict[str, object] | None, list[Problem]]:
    """The raw ingest record of ``record``, or None and the problems found."""
    reader = _Reader(record, source)
    raw: dict[str, object] = {"id": reader.id, "kind": source.kind}
    for ingest in source.fields:
        if ingest in _TIMES or ingest == "attendees":
            continue
        text = clean_text(reader.mapped(ingest))
        if text:
            raw[ingest] = text
    start, start_day = _when(reader, "start", None)
    end, _ = _when(reader, "end", start_day)
    if start is not None:
        raw["start"] = start
    if end is not None:
        raw["end"] = end
    attendees = _attendees(reader)
    if attendees:
        raw["attendees"] = attendees
    modified = reader.text_of(source.modified_field).strip()
    if modified:
        try:
            raw["modified"] = parse_timestamp(modified).isoformat()
        except ValueFormatError as exc:
            reader.fail(source.modified_field, str(exc))
    if reader.problems:
        return None, reader.problems
    return raw, []


def modified_of(record: FileMakerRecord, source: FileMakerSettings) -> dt.datetime | None:
    """The record's modification timestamp (naive wall time), None when empty or unreadable."""
    try:
        return parse_timestamp(as_text(record.fields.get(source.modified_field)))
    except ValueFormatError:
        return None


def _where(problem: Problem, source: FileMakerSettings) -> Problem:
    """A validation problem with the FileMaker field(s) behind the ingest field named."""
    if problem.field is None:
        return problem
    names = [
        source.fields[f]
        for f in (problem.field, f"{problem.field}_date", f"{problem.field}_time")
        if f in source.fields
    ]
    if problem.field == "attendees" and source.attendees_field:
        names = [source.attendees_field]
    if not names:
        return problem
    return Problem(
        problem.record, f"{problem.field} ({', '.join(names)})", problem.reason, problem.line
    )


def read_record(
    record: FileMakerRecord,
    source: FileMakerSettings,
    shop_timezone: str,
    limits: IngestSettings = DEFAULT_LIMITS,
) -> tuple[EventRecord | None, list[Problem]]:
    """Map and validate: the stored record, or None and every problem (FileMaker fields named).
    ``limits`` are the shop's ``[ingest]`` limits, the same as the push API's."""
    raw, problems = to_ingest(record, source)
    if raw is None:
        return None, problems
    event, problems = validate_record(raw, shop_timezone, limits=limits)
    return event, [_where(p, source) for p in problems]
