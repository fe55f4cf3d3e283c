"""Where iPoint calendars live in the CalDAV namespace, and who may read which.

Every technician's iPoint calendar is the collection ``/<login>/ipoint/`` in their own calendar
home. A supervisor granted a technician's calendar (``[calendar:LOGIN] readers``) finds it in
their own home as ``/<reader>/ipoint-<login>/``. The names ``ipoint`` and ``ipoint-*`` are
reserved in every home: they are never handed to Radicale's own storage, so a client cannot
create a personal calendar there. Item names are ``<iPoint id>.ics`` (ids with characters that
are unsafe in a path are base64url-encoded behind a ``~``).

The plugin (``radicale_plugin``), the rights file and the WSGI front all read this module, so
the layout is defined once.

Why the plugin lists granted calendars itself instead of using Radicale 3.9's map shares: a
map share would compose with the plugin (Radicale resolves the mapped path, checks rights as
the owner and filters by the share's permissions, so discovery and sync-collection work), but
its rows live in Radicale's sharing database, written through the ``/.sharing`` API. The grants
are the bridge's INI (``[calendar:LOGIN] readers``), so the bridge would have to rewrite that
database at every start in Radicale's internal row format and keep two sources of truth in step;
and turning sharing on also opens the ``/.sharing`` API and advertises share privileges on every
collection. Listing ``ipoint-<login>`` in the reader's home costs a few lines here, reads the
INI directly, and the generated rights file grants exactly those paths.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..config import Settings

COLLECTION = "ipoint"
GRANT_PREFIX = "ipoint-"
ITEM_SUFFIX = ".ics"
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+=-]{0,150}")


@dataclass(frozen=True, slots=True)
class CalendarPath:
    """An iPoint calendar collection: the home it appears in and whose calendar it shows."""

    home: str
    calendar: str
    name: str

    @property
    def path(self) -> str:
        """Sanitised collection path without slashes, as Radicale's storage uses it."""
        return f"{self.home}/{self.name}"

    @property
    def url_path(self) -> str:
        return f"/{self.home}/{self.name}/"

    @property
    def is_grant(self) -> bool:
        return self.home != self.calendar


def own_path(login: str) -> CalendarPath:
    return CalendarPath(home=login, calendar=login, name=COLLECTION)


def grant_path(reader: str, owner: str) -> CalendarPath:
    return CalendarPath(home=reader, calendar=owner, name=GRANT_PREFIX + owner)


def is_reserved(name: str) -> bool:
    """True for a collection name in a home that belongs to the plugin, granted or not."""
    return name == COLLECTION or name.startswith(GRANT_PREFIX)


def parse(path: str) -> tuple[CalendarPath, str | None] | None:
    """Split a sanitised path (``home/name[/href]``, no outer slashes) into the iPoint calendar
    it addresses and the item href, or None when the path is not in a reserved collection."""
    parts = path.strip("/").split("/")
    if len(parts) not in (2, 3) or not parts[0] or not is_reserved(parts[1]):
        return None
    home, name = parts[0], parts[1]
    calendar = home if name == COLLECTION else name[len(GRANT_PREFIX) :]
    href = parts[2] if len(parts) == 3 else None
    return CalendarPath(home=home, calendar=calendar, name=name), href


def href_for(event_id: str) -> str:
    """The item name of an event: readable when the id is path-safe, encoded otherwise."""
    if _SAFE_ID.fullmatch(event_id):
        return event_id + ITEM_SUFFIX
    raw = base64.urlsafe_b64encode(event_id.encode()).decode().rstrip("=")
    return "~" + raw + ITEM_SUFFIX


def event_id_for(href: str) -> str | None:
    """Inverse of ``href_for``; None for a name no event can have."""
    if not href.endswith(ITEM_SUFFIX):
        return None
    stem = href[: -len(ITEM_SUFFIX)]
    if stem.startswith("~"):
        body = stem[1:]
        try:
            decoded = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        return decoded if href_for(decoded) == href else None
    return stem if _SAFE_ID.fullmatch(stem) else None


def grants(settings: Settings) -> Mapping[str, tuple[str, ...]]:
    """reader login -> the logins whose iPoint calendars they were granted, sorted."""
    out: dict[str, set[str]] = {}
    for owner, cal in settings.calendars.items():
        for reader in cal.readers:
            if reader != owner:
                out.setdefault(reader, set()).add(owner)
    return {reader: tuple(sorted(owners)) for reader, owners in sorted(out.items())}


def display_name(settings: Settings, login: str, stored_name: str | None) -> str:
    """The calendar name, "iPoint – Chris": the INI's name, else iPoint's user_name, else
    the login."""
    name = settings.calendar(login).name or stored_name or login
    return f"iPoint – {name}"


READ_ONLY_TEXT = (
    "This calendar is managed by iPoint and is read-only. "
    "Change the work order or event in iPoint; the calendar follows within seconds.\n"
)
