"""What the plugin serves from: the bridge's settings, its event store, and the answers to "which
iPoint calendars does this path or home show". Opened once, on first use (Radicale builds a
second ``Storage`` for its sharing module that never serves a request)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from bridge.caldav import layout
from bridge.caldav.props import calendar_meta
from bridge.config import Settings
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

    def view(self, where: layout.CalendarPath) -> CalendarView | None:
        """The calendar at ``where`` if it exists and its home may see it (own or granted)."""
        if where.is_grant and where.calendar not in self.grants.get(where.home, ()):
            return None
        user = self.store.user(where.calendar)
        if user is None:
            return None
        meta, digest = calendar_meta(self.settings, user)
        return CalendarView(where=where, user=user, meta=meta, meta_digest=digest)

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
