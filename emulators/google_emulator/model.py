"""The emulator's state entities: accounts, calendars, events, ACL rules, calendar-list entries.

These are mutable on purpose (unlike the bridge's frozen records): they *are* the in-memory
database, changed in place by handlers on the event loop's single thread, so no locking is needed.
Every change takes a fresh number from one store-wide sequence (``seq``); sync tokens and etags
are built from it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

JSON = dict[str, Any]

ROLE_RANK = {"none": 0, "freeBusyReader": 1, "reader": 2, "writer": 3, "owner": 4}


@dataclass(slots=True)
class Account:
    email: str
    time_zone: str = "UTC"
    display_name: str = ""
    quota_exceeded: bool = False


@dataclass(slots=True)
class EventRec:
    """One event (or instance exception) of a calendar.

    ``body`` holds the client-writable fields as last written (validated and normalised);
    read-only fields (``created``, ``updated``, ``etag``, ``iCalUID``...) are kept apart.
    """

    id: str
    body: JSON
    status: str
    created: float
    updated: float
    sequence: int
    seq: int
    order: int
    ical_uid: str
    creator: str
    recurring_event_id: str | None = None


@dataclass(slots=True)
class AclRuleRec:
    id: str
    scope_type: str
    scope_value: str | None
    role: str
    seq: int
    deleted: bool = False


@dataclass(slots=True)
class CalendarRec:
    id: str
    owner: str
    summary: str
    time_zone: str
    created: float
    updated: float
    seq: int
    description: str | None = None
    location: str | None = None
    primary: bool = False
    created_by_client: str | None = None
    ical_secret: str = ""
    #: Sync tokens at or below this sequence answer 410 (tombstones purged, or forced).
    purged_seq: int = 0
    deleted_after: float = 0.0
    events: dict[str, EventRec] = field(default_factory=dict)
    acl: dict[str, AclRuleRec] = field(default_factory=dict)


@dataclass(slots=True)
class ListEntryRec:
    """A calendar on one user's calendar list (per-user settings of that calendar)."""

    calendar_id: str
    seq: int
    summary_override: str | None = None
    color_id: str | None = None
    background_color: str | None = None
    foreground_color: str | None = None
    hidden: bool = False
    selected: bool = True
    default_reminders: list[JSON] = field(default_factory=list)
    notification_settings: JSON | None = None
    deleted: bool = False


def to_json(obj: Any) -> JSON:
    """A dataclass as a JSON-able dict (for the state file)."""
    result: JSON = asdict(obj)
    return result


def calendar_from_json(data: JSON) -> CalendarRec:
    events = {k: EventRec(**v) for k, v in data.pop("events", {}).items()}
    acl = {k: AclRuleRec(**v) for k, v in data.pop("acl", {}).items()}
    return CalendarRec(**data, events=events, acl=acl)


def max_role(*roles: str) -> str:
    """The strongest of the roles."""
    return max(roles, key=lambda r: ROLE_RANK.get(r, 0), default="none")
