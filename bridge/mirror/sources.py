"""What the mirror reads and where it writes: targets (one Google calendar each) and the
common shape of a source read.

The iPoint calendars are read like any other CalDAV collection, at ``/<login>/ipoint/`` of the
bridge's CalDAV server with the ``[caldav] service_user`` login: there is no second path around
the feeds. Which technicians exist (and their display names) comes from the store's user list.
``[mirror:NAME]`` sections add any CalDAV collection or ICS URL.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from ..caldav.layout import own_path
from ..config import Settings
from ..records import User

USER_PREFIX = "user:"
SOURCE_PREFIX = "source:"


SourceKind = Literal["caldav", "ics"]
"""How a source is read: CalDAV sync-collection (or ctag and etags), or an ICS feed's
conditional GET."""


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """Where a calendar is read from; ``kind`` is ``caldav``, ``ics`` or ``auto``."""

    url: str
    kind: SourceKind | Literal["auto"] = "auto"
    username: str = ""
    password: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class AclRule:
    """One reader rule Google should hold: scope type ``user``, ``domain`` or ``default``."""

    scope_type: str
    scope_value: str = ""
    role: str = "reader"

    def as_json(self) -> dict[str, str]:
        return {"type": self.scope_type, "value": self.scope_value, "role": self.role}


@dataclass(frozen=True, slots=True)
class Target:
    """One Google calendar the mirror keeps: its key in the status tables, its name, its
    source, who may see it."""

    key: str
    summary: str
    source: SourceSpec
    acl: tuple[AclRule, ...] = ()
    public: bool = False
    login: str | None = None
    footer: str = "Managed by iPoint: changes made here in Google are overwritten."

    def acl_hash(self) -> str:
        blob = json.dumps([r.as_json() for r in self.acl], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class RawItem:
    """One source item as read: ``href`` (a CalDAV path, or ``uid:<UID>`` in an ICS feed)."""

    href: str
    etag: str | None
    text: str


@dataclass(frozen=True, slots=True)
class Page:
    """One step of a source read. Items are changed (or new) items; on the last page,
    ``removed`` lists vanished hrefs, ``present`` (full listings only) every href that exists,
    and ``position`` the sync position to store with it."""

    items: tuple[RawItem, ...] = ()
    removed: tuple[str, ...] = ()
    present: frozenset[str] | None = None
    position: dict[str, Any] | None = None
    last: bool = False


def user_target(settings: Settings, user: User, caldav_base: str | None = None) -> Target:
    cal = settings.calendar(user.login)
    name = cal.name or user.name or user.login
    summary = settings.google.calendar_name.format(user=user.login, user_name=name)
    rules: list[AclRule] = [AclRule("user", email.lower()) for email in cal.share_with]
    if cal.share_domain:
        rules.append(AclRule("domain", cal.share_domain.lower()))
    if cal.public:
        rules.append(AclRule("default", ""))
    url = (caldav_base or settings.caldav_url()).rstrip("/") + own_path(user.login).url_path
    spec = SourceSpec(url, "caldav", settings.caldav.service_user, settings.caldav.service_password)
    return Target(
        key=USER_PREFIX + user.login,
        summary=summary,
        source=spec,
        acl=tuple(sorted(set(rules), key=lambda r: (r.scope_type, r.scope_value))),
        public=cal.public,
        login=user.login,
    )


def targets(settings: Settings, users: list[User], caldav_base: str | None = None) -> list[Target]:
    """Every calendar to mirror: one per technician, then each ``[mirror:NAME]``.
    ``caldav_base`` is where the bridge's CalDAV server answers (default: the config's)."""
    out = [user_target(settings, u, caldav_base) for u in users]
    for name, src in sorted(settings.sources.items()):
        out.append(
            Target(
                key=SOURCE_PREFIX + name,
                summary=src.calendar_name or name,
                source=SourceSpec(src.source, "auto", src.username, src.password),
                footer=f"Mirrored from {name} by ipoint-bridge: changes made here in Google "
                "are overwritten.",
            )
        )
    return out
