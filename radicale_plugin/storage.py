"""``Storage``: routes every path either to the event store (iPoint calendars) or to Radicale's
own multifilesystem storage (everything else, so personal calendars stay fully writable).

Radicale builds one ``Storage`` for all its threads. The store's connections are per thread,
and ``acquire_lock("r")`` opens a read snapshot, so one request sees one state of the store
(a sync token and the items it reports agree).
"""

from __future__ import annotations

import logging
import posixpath
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any

from radicale import config as radicale_config
from radicale import item as radicale_item
from radicale import pathutils, types
from radicale import storage as radicale_storage
from radicale.storage import multifilesystem

from bridge.caldav import layout

from .backend import Backend
from .collection import IPointCollection, VirtualPrincipal
from .errors import ReadOnlyCalendar
from .options import load_options

logger = logging.getLogger(__name__)
ChildContext = Callable[[str, str | None], AbstractContextManager[None]]


class Storage(radicale_storage.BaseStorage):
    def __init__(self, configuration: radicale_config.Configuration) -> None:
        super().__init__(configuration)
        self._options = load_options(configuration)  # a misspelt option fails here, at start
        self._files = multifilesystem.Storage(configuration)
        # Radicale's application reads these to decide which paths and logins it accepts.
        self._is_collision_free = self._files._is_collision_free
        self._supports_unicode = self._files._supports_unicode
        self._supports_trailing_whitespace = self._files._supports_trailing_whitespace
        self._supports_problematic_chars = self._files._supports_problematic_chars
        self._backend: Backend | None = None
        self._open_lock = threading.Lock()

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            with self._open_lock:
                if self._backend is None:
                    self._backend = Backend.open(self._options)
        return self._backend

    def close(self) -> None:
        """Close the store if the plugin opened it (``bridge.caldav`` calls this on stop)."""
        if self._backend is not None:
            self._backend.close()
            self._backend = None

    # ------------------------------------------------------------ discovery

    def discover(
        self,
        path: str,
        depth: str = "0",
        child_context_manager: ChildContext | None = None,
        user_groups: set[str] | None = None,
    ) -> Iterator[types.CollectionOrItem]:
        sane = pathutils.strip_path(path)
        hit = layout.parse(sane)
        if hit is not None:
            yield from self._discover_ipoint(hit[0], hit[1], depth)
            return
        parts = sane.split("/") if sane else []
        files = self._files.discover(path, depth, child_context_manager, user_groups or set())
        if len(parts) > 1:
            yield from files
            return
        first = next(files, None)
        if first is not None:
            yield first
        elif len(parts) == 1 and self.backend.has_home(parts[0]):
            yield VirtualPrincipal(parts[0])
        else:
            return
        if depth == "0":
            return
        seen: set[str] = set()
        for entry in files:
            if isinstance(entry, radicale_storage.BaseCollection):
                name = posixpath.basename(entry.path)
                if parts and layout.is_reserved(name):
                    continue  # a stray folder never shadows an iPoint calendar
                seen.add(name)
            yield entry
        if parts:
            for view in self.backend.views_in_home(parts[0]):
                yield IPointCollection(self.backend, view)
        else:
            for login in self.backend.homes():
                if login not in seen:
                    yield VirtualPrincipal(login)

    def _discover_ipoint(
        self, where: layout.CalendarPath, href: str | None, depth: str
    ) -> Iterator[types.CollectionOrItem]:
        view = self.backend.view(where)
        if view is None:
            return
        collection = IPointCollection(self.backend, view)
        if href is not None:
            item = collection.get_item(href)
            if item is not None:
                yield item
            return
        yield collection
        if depth != "0":
            yield from collection.get_all()

    # ------------------------------------------------------------ writes

    def create_collection(
        self,
        href: str,
        items: Iterable[radicale_item.Item] | None = None,
        props: Mapping[str, str] | None = None,
    ) -> tuple[radicale_storage.BaseCollection, dict[str, radicale_item.Item], list[str]]:
        sane = pathutils.strip_path(href)
        parts = sane.split("/")
        if len(parts) >= 2 and layout.is_reserved(parts[1]):
            raise ReadOnlyCalendar(sane)
        result: tuple[radicale_storage.BaseCollection, dict[str, radicale_item.Item], list[str]]
        result = self._files.create_collection(href, items, props)
        return result

    def move(
        self,
        item: radicale_item.Item,
        to_collection: radicale_storage.BaseCollection,
        to_href: str,
    ) -> None:
        if isinstance(to_collection, IPointCollection) or isinstance(
            item.collection, IPointCollection
        ):
            raise ReadOnlyCalendar(to_collection.path)
        self._files.move(item, to_collection, to_href)

    # ------------------------------------------------------------ locking, checks

    @types.contextmanager
    def acquire_lock(self, mode: str, user: str = "", *args: Any, **kwargs: Any) -> Iterator[None]:
        with self._files.acquire_lock(mode, user, *args, **kwargs):
            if mode != "r":
                yield  # writes go to Radicale's own storage; the store is never written here
                return
            with self.backend.store.db.snapshot():
                yield

    def verify(self) -> bool:
        ok: bool = self._files.verify()
        return ok
