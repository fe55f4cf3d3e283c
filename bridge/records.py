"""The normalised iPoint record and what the store keeps about it.

An ``EventRecord`` is one validated ingest record with its times resolved (see ``timeutil``);
it is what every ingest path produces and what rendering and the store consume.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, get_args

Kind = Literal["work_order", "event"]
Status = Literal["confirmed", "tentative", "cancelled"]

#: A technician's login: it becomes a CalDAV path segment (``/<login>/ipoint/``), an htpasswd
#: name and a Google calendar's key, so it starts with a letter or digit (no ``.``/``..``) and
#: holds no ``/``, ``:`` or white space.
LOGIN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
LOGIN_RULE = "1-64 letters, digits or . _ @ -, starting with a letter or digit"

KINDS: tuple[str, ...] = ("work_order", "event")
STATUSES: tuple[str, ...] = ("confirmed", "tentative", "cancelled")
#: The content hash's encoding, built once (``json.dumps`` with options builds one a call).
_HASH_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One iPoint work order or event, validated and normalised.

    Timed events: ``start``/``end`` are aware datetimes in ``timezone`` (wall time normalised,
    so a time that did not exist at a DST change is already moved to the real one).
    All-day events: ``start``/``end`` are dates and ``end`` is exclusive (the day after the
    last day), as RFC 5545 and Google want them.
    """

    id: str
    user: str
    title: str
    start: datetime | date
    end: datetime | date
    timezone: str
    all_day: bool = False
    user_name: str | None = None
    attendees: tuple[str, ...] = ()
    kind: Kind = "event"
    location: str | None = None
    description: str | None = None
    customer: str | None = None
    phone: str | None = None
    url: str | None = None
    number: str | None = None
    work_status: str | None = None
    status: Status = "confirmed"
    rrule: str | None = None
    exdates: tuple[datetime | date, ...] = ()
    modified: datetime | None = None

    @property
    def calendars(self) -> tuple[str, ...]:
        """Logins whose calendar shows this event: the owner first, then attendees."""
        seen = [self.user]
        for login in self.attendees:
            if login not in seen:
                seen.append(login)
        return tuple(seen)

    def content_hash(self) -> str:
        """Hash of everything a calendar shows; ``modified`` is bookkeeping and left out."""
        return stored_json(self)[1]


def stored_json(record: EventRecord) -> tuple[str, str]:
    """The record's JSON as the store keeps it (``to_json_dict``: keys sorted, ``modified``
    last) and its content hash.

    The store needs both for every record it writes: one encoding serves both, since the
    hashed text (sorted keys, no ``modified``) is the stored JSON without ``modified``.
    """
    payload = to_json_dict(record)
    modified = payload.pop("modified")
    hashed = _HASH_JSON.encode(payload)
    data = f'{hashed[:-1]},"modified":{_HASH_JSON.encode(modified)}}}'
    return data, hashlib.sha256(hashed.encode()).hexdigest()


def _iso(value: datetime | date) -> str:
    return value.isoformat()


def to_json_dict(record: EventRecord) -> dict[str, object]:
    """A JSON-safe dict of the record (times as ISO strings with offsets)."""
    return {
        "id": record.id,
        "user": record.user,
        "user_name": record.user_name,
        "attendees": list(record.attendees),
        "kind": record.kind,
        "title": record.title,
        "start": _iso(record.start),
        "end": _iso(record.end),
        "all_day": record.all_day,
        "timezone": record.timezone,
        "location": record.location,
        "description": record.description,
        "customer": record.customer,
        "phone": record.phone,
        "url": record.url,
        "number": record.number,
        "work_status": record.work_status,
        "status": record.status,
        "rrule": record.rrule,
        "exdates": [_iso(x) for x in record.exdates],
        "modified": _iso(record.modified) if record.modified else None,
    }


def from_json_dict(data: dict[str, object]) -> EventRecord:
    """Inverse of ``to_json_dict`` for data the store wrote itself (trusted)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(str(data["timezone"]))
    all_day = bool(data["all_day"])

    def when(text: object) -> datetime | date:
        if all_day:
            return date.fromisoformat(str(text))
        return datetime.fromisoformat(str(text)).astimezone(tz)

    def opt(key: str) -> str | None:
        value = data.get(key)
        return None if value is None else str(value)

    modified = data.get("modified")
    attendees = data.get("attendees") or []
    exdates = data.get("exdates") or []
    assert isinstance(attendees, list) and isinstance(exdates, list)
    return EventRecord(
        id=str(data["id"]),
        user=str(data["user"]),
        title=str(data["title"]),
        start=when(data["start"]),
        end=when(data["end"]),
        timezone=str(data["timezone"]),
        all_day=all_day,
        user_name=opt("user_name"),
        attendees=tuple(str(a) for a in attendees),
        kind="work_order" if data.get("kind") == "work_order" else "event",
        location=opt("location"),
        description=opt("description"),
        customer=opt("customer"),
        phone=opt("phone"),
        url=opt("url"),
        number=opt("number"),
        work_status=opt("work_status"),
        status=_status(data.get("status")),
        rrule=opt("rrule"),
        exdates=tuple(when(x) for x in exdates),
        modified=datetime.fromisoformat(str(modified)) if modified else None,
    )


def _status(value: object) -> Status:
    if value == "tentative":
        return "tentative"
    if value == "cancelled":
        return "cancelled"
    return "confirmed"


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as the store holds it: its rendering and bookkeeping, the record on demand.

    Cheap to build (no parsing), because whole-calendar reads build ten thousand of them.
    """

    id: str
    tzid: str
    ics: str
    """The VEVENT block, CRLF lines, ready to concatenate into a VCALENDAR."""
    etag: str
    """Unquoted entity tag of this revision."""
    revision: int
    content_hash: str
    updated: float
    """Epoch seconds of the last change."""
    seq: int
    """Change-log position of the last change."""
    data: str
    """The record as JSON (``to_json_dict``)."""

    def record(self) -> EventRecord:
        return from_json_dict(json.loads(self.data))


@dataclass(frozen=True, slots=True)
class User:
    """A technician who owns (or is granted) an iPoint calendar."""

    login: str
    name: str | None = None

    @property
    def display(self) -> str:
        return self.name or self.login


@dataclass(frozen=True, slots=True)
class CalendarState:
    """What a client needs to tell whether a calendar changed."""

    user: str
    seq: int
    last_modified: float
    """Epoch seconds of the last change."""
    instance: str

    @property
    def etag(self) -> str:
        return f'"{self.instance[:8]}-{self.seq}"'


@dataclass(frozen=True, slots=True)
class Change:
    """The latest state of one event on one calendar after a sync position."""

    event_id: str
    seq: int
    deleted: bool


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """Changes on one calendar since a sync position, and the position they bring it to."""

    seq: int
    changes: tuple[Change, ...] = field(default_factory=tuple)


ApplyResultKind = Literal["created", "updated", "unchanged", "stale", "deleted", "absent"]


@dataclass(frozen=True, slots=True)
class ApplyOutcome:
    """What happened to one record of an ingest."""

    id: str
    result: ApplyResultKind
    revision: int = 0
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """Outcome of one atomic ingest."""

    outcomes: tuple[ApplyOutcome, ...]
    seq: int

    def count(self, result: ApplyResultKind) -> int:
        return sum(1 for o in self.outcomes if o.result == result)

    def summary(self) -> dict[str, int]:
        return {k: self.count(k) for k in get_args(ApplyResultKind)}
