"""Step 3, "User calendars": one card per technician with every address a person needs.

Built from the store (technicians and their secret feed tokens), the INI (sharing) and the
mirror's status (Google calendar, last mirror time, pending changes, last error).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ...caldav import htpasswd
from ...caldav.layout import own_path
from ...caldav.radicale_config import htpasswd_path
from ...config import Settings
from ...google.client import calendar_link, public_ical_url
from ...mirror.control import CalendarStatus, MirrorControl
from ...store import EventStore
from ..feeds import feed_url, webcal_url


@dataclass(frozen=True, slots=True)
class CalendarCard:
    login: str
    name: str
    google_name: str
    google_link: str
    shared_with: tuple[str, ...]
    public_ical_url: str
    caldav_url: str
    feed_url: str
    webcal_url: str
    last_mirrored: str
    pending: int
    last_error: str
    mirrored: bool
    has_login: bool
    """Whether the technician can sign in to CalDAV (is in the htpasswd file)."""


def caldav_url(settings: Settings, login: str) -> str:
    return settings.caldav_url().rstrip("/") + own_path(login).url_path


def ago(at: float | None, now: float) -> str:
    if at is None:
        return "never"
    seconds = max(0, int(now - at))
    if seconds < 60:
        return "just now" if seconds < 5 else f"{seconds} seconds ago"
    if seconds < 3600:
        return f"{seconds // 60} minute{'s' if seconds >= 120 else ''} ago"
    if seconds < 86400:
        return f"{seconds // 3600} hour{'s' if seconds >= 7200 else ''} ago"
    return f"{seconds // 86400} day{'s' if seconds >= 172800 else ''} ago"


def configured_sharing(settings: Settings, login: str) -> tuple[str, ...]:
    cal = settings.calendar(login)
    out = [f"{email} (see all event details)" for email in cal.share_with]
    if cal.share_domain:
        out.append(f"everyone at {cal.share_domain}")
    if cal.public:
        out.append("public")
    return tuple(out)


def build_cards(
    settings: Settings, store: EventStore, mirror: MirrorControl | None
) -> list[CalendarCard]:
    """Cards for every technician known to the store or declared in the INI (sorted)."""
    users = {u.login: u.name for u in store.users()}
    for login in settings.calendars:
        if login not in users:
            # Declared in the INI before iPoint pushed anything: it still gets its addresses.
            users[login] = store.ensure_user(login).name
    now = time.time()
    with_login = set(htpasswd.logins(htpasswd_path(settings)))
    cards = []
    for login in sorted(users):
        name = settings.calendar(login).name or users[login] or login
        status = (mirror.calendar_status(login) if mirror else None) or CalendarStatus()
        google_name = settings.google.calendar_name.format(user=login, user_name=name)
        link = status.html_link or (
            calendar_link(settings.google.api_endpoint, status.google_id)
            if status.google_id
            else ""
        )
        public = status.public_ical_url
        if not public and status.google_id and settings.calendar(login).public:
            public = public_ical_url(settings.google.api_endpoint, status.google_id)
        feed = feed_url(settings, store.feed_token(login))
        cards.append(
            CalendarCard(
                login=login,
                name=name,
                google_name=google_name,
                google_link=link,
                shared_with=status.acl or configured_sharing(settings, login),
                public_ical_url=public,
                caldav_url=caldav_url(settings, login),
                feed_url=feed,
                webcal_url=webcal_url(feed),
                last_mirrored=ago(status.last_mirrored, now),
                pending=status.waiting,
                last_error=status.last_error,
                mirrored=bool(status.google_id),
                has_login=login in with_login,
            )
        )
    return cards
