"""What the plugin serves from: the bridge's settings, its event store, and the answers to "which
iPoint calendars does this path or home show". Opened once, on first use (Radicale builds a
second ``Storage`` for its sharing module that never serves a request)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from bridge.caldav import layout
from bridge.config import Settings
from bridge.ical import calendar_text
from bridge.records import User
from bridge.runtime import open_store
from bridge.store import EventStore

from .options import PluginOptions

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CalendarView:
    """One visible iPoint calendar: where it is, whose it is, and its WebDAV properties."""

    where: layout.CalendarPath
    user: User
    meta: Mapping[str, str]
    meta_digest: str


@dataclass
class Backend:
    settings: Settings
    store: EventStore
    owns_store: bool
    grants: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def open(cls, options: PluginOptions) -> Backend:
        store = options.store if options.store is not None else open_store(options.settings)
        logger.info("serving iPoint calendars from store %s", store.instance[:8])
        return cls(
            settings=options.settings,
            store=store,
            owns_store=options.store is None,
            grants=layout.grants(options.settings),
        )

    def close(self) -> None:
        if self.owns_store:
            self.store.close()

    @cached_property
    def _timezone_text(self) -> str:
        # RFC 4791 5.2.2: an iCalendar object with exactly one VTIMEZONE.
        return calendar_text((), (self.settings.bridge.timezone,))

    def view(self, where: layout.CalendarPath) -> CalendarView | None:
        """The calendar at ``where`` if it exists and its home may see it (own or granted)."""
        if where.is_grant and where.calendar not in self.grants.get(where.home, ()):
            return None
        user = self.store.user(where.calendar)
        if user is None:
            return None
        name = layout.display_name(self.settings, user.login, user.name)
        meta = {
            "tag": "VCALENDAR",
            "D:displayname": name,
            "C:calendar-description": (f"{name}: work orders and events from iPoint (read-only)"),
            "ICAL:calendar-color": self.settings.caldav.color,
            "C:supported-calendar-component-set": "VEVENT",
            "C:calendar-timezone": self._timezone_text,
        }
        digest = hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()
        return CalendarView(where=where, user=user, meta=meta, meta_digest=digest[:8])

    def views_in_home(self, home: str) -> Iterator[CalendarView]:
        """The iPoint calendars in ``home``: its own, then those granted to it."""
        for where in (
            layout.own_path(home),
            *(layout.grant_path(home, owner) for owner in self.grants.get(home, ())),
        ):
            view = self.view(where)
            if view is not None:
                yield view

    def has_home(self, login: str) -> bool:
        """A principal exists for ``login`` even before its first login (the mirror's service
        login discovers technicians' calendars through it)."""
        return login in self.grants or self.store.user(login) is not None

    def homes(self) -> list[str]:
        return sorted({u.login for u in self.store.users()} | set(self.grants))
