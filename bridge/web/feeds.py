"""Subscription feeds: a secret URL per iPoint calendar for clients that cannot log in
(Outlook "subscribe from web", Google "From URL", Apple subscriptions).

Why not Radicale 3.9's token shares (``/.token/v1/...``)? They fit the secret-URL part but not
the rest of what a subscribed feed needs:

- they serve the whole collection, with no window: a technician's full history is far over
  the ~1 MB at which Google's subscription starts dropping events, while CalDAV keeps it all;
- the body is Radicale's ``serialize()``: no METHOD:PUBLISH, X-WR-TIMEZONE, REFRESH-INTERVAL
  or X-PUBLISHED-TTL, and Radicale's GET has no conditional handling (no 304);
- they live on the CalDAV port and in Radicale's sharing database, while the feed URL belongs
  on the bridge's public base URL with its token in the event store, where ``feeds rotate``
  replaces it in one transaction and the old URL stops working at once.

So the bridge's web server serves ``/feeds/<token>.ics`` itself: 192 random bits per calendar
(``store.feed_token``), a window of ``[feeds] window_past_days``/``window_future_days`` around
today in the shop's zone, ETag/Last-Modified with 304, and one 404 for every unknown or rotated
token (same body, nothing about the calendar). A feed's body is kept gzipped under its ETag
(``bodycache``), so pollers that ask again without If-None-Match cost no rebuild. The URL is
short (about 60 characters plus the base URL), well inside Google's 256.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from aiohttp import web

from ..caldav.bodycache import BodyCache, compress, wants_gzip
from ..caldav.export import CalendarHeader, window_calendar
from ..caldav.layout import display_name
from ..config import Settings
from ..store import EventStore
from ..timeutil import day_start, zone
from .keys import SETTINGS, STORE

logger = logging.getLogger(__name__)

FEED_BODIES: web.AppKey[BodyCache] = web.AppKey("feed_bodies", BodyCache)
FEED_PATH = "/feeds/{token}.ics"
MAX_URL = 256
LARGE_FEED = 1_000_000


def feed_url(settings: Settings, token: str) -> str:
    """The https (or http) URL of a feed on the bridge's public base URL."""
    return settings.bridge.base_url + FEED_PATH.format(token=token)


def webcal_url(url: str) -> str:
    """The same feed as ``webcal://`` (Apple and desktop Outlook open it as a subscription)."""
    parts = urlsplit(url)
    return "webcal://" + parts.netloc + parts.path


@dataclass(frozen=True, slots=True)
class Feed:
    body: bytes
    etag: str
    last_modified: datetime


def _window(settings: Settings, today: date) -> tuple[datetime, datetime]:
    tz = zone(settings.bridge.timezone)
    start = day_start(today - timedelta(days=settings.feeds.window_past_days), tz)
    end = day_start(today + timedelta(days=settings.feeds.window_future_days + 1), tz)
    return start, end


def feed_state(
    settings: Settings, store: EventStore, token: str, now: datetime
) -> tuple[str, str, datetime] | None:
    """(calendar, etag, last-modified) of the feed behind ``token``, or None: cheap, so a
    conditional request is answered without reading any event."""
    calendar = store.calendar_for_feed_token(token)
    state = store.calendar_state(calendar) if calendar else None
    if calendar is None or state is None:
        return None
    tz = zone(settings.bridge.timezone)
    today = now.astimezone(tz).date()
    # The window moves at midnight in the shop's zone: the tags and the date move with it.
    shape = f"{settings.feeds}|{settings.calendar(calendar).name}|{today.isoformat()}"
    digest = hashlib.sha256(shape.encode()).hexdigest()[:8]
    etag = f'"{state.instance[:8]}-{state.seq}-{digest}"'
    changed = datetime.fromtimestamp(max(state.last_modified, day_start(today, tz).timestamp()))
    return calendar, etag, changed.astimezone(tz).replace(microsecond=0)


def build_feed(settings: Settings, store: EventStore, calendar: str, now: datetime) -> bytes:
    tz = zone(settings.bridge.timezone)
    start, end = _window(settings, now.astimezone(tz).date())
    events = list(store.iter_range(calendar, start, end))
    user = store.user(calendar)
    minutes = settings.feeds.refresh_minutes
    header = CalendarHeader(
        name=display_name(settings, calendar, user.name if user else None),
        timezone=settings.bridge.timezone,
        # RFC 5546 3.2.1 PUBLISH; RFC 7986 5.7 REFRESH-INTERVAL; X-PUBLISHED-TTL for Outlook.
        extra=(
            "METHOD:PUBLISH",
            f"REFRESH-INTERVAL;VALUE=DURATION:PT{minutes}M",
            f"X-PUBLISHED-TTL:PT{minutes}M",
        ),
    )
    body = "".join(window_calendar(events, header)).encode()
    if len(body) > LARGE_FEED:
        logger.warning(
            "feed of %s is %d bytes (%d events): Google may drop events above about 1 MB; "
            "narrow [feeds] window_past_days/window_future_days",
            calendar,
            len(body),
            len(events),
        )
    return body


def _not_modified(request: web.Request, etag: str, changed: datetime) -> bool:
    inm = request.headers.get("If-None-Match")
    if inm is not None:  # RFC 9110 13.2.2: If-None-Match wins over If-Modified-Since
        wanted = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in wanted or etag in wanted
    ims = request.headers.get("If-Modified-Since")
    if ims:
        try:
            return changed <= parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
    return False


async def serve_feed(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    store = request.app[STORE]
    token = request.match_info["token"]
    now = datetime.now(UTC)  # an instant; the window is read in the shop's zone
    found = await asyncio.to_thread(feed_state, settings, store, token, now)
    if found is None:
        # One answer for unknown, rotated and malformed tokens alike.
        raise web.HTTPNotFound(text="Not Found")
    calendar, etag, changed = found
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(changed.astimezone(UTC), usegmt=True),
        "Cache-Control": "private, max-age=0, must-revalidate",
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex",
    }
    if _not_modified(request, etag, changed):
        return web.Response(status=304, headers=headers)
    cache = request.app[FEED_BODIES]
    packed = cache.get(calendar, etag)
    if packed is None:
        packed = await asyncio.to_thread(_build_packed, settings, store, calendar, now)
        cache.put(calendar, etag, packed)
    headers["Vary"] = "Accept-Encoding"
    if wants_gzip(request.headers.get("Accept-Encoding", "")):
        headers["Content-Encoding"] = "gzip"
        body = packed
    else:
        body = await asyncio.to_thread(gzip.decompress, packed)
    return web.Response(body=body, content_type="text/calendar", charset="utf-8", headers=headers)


def _build_packed(settings: Settings, store: EventStore, calendar: str, now: datetime) -> bytes:
    return compress(build_feed(settings, store, calendar, now))


def setup_feeds(app: web.Application) -> None:
    """Add the feed route to the bridge's web application (uses ``SETTINGS`` and ``STORE``);
    feed bodies are kept gzipped by ETag (``[feeds] cache_bytes``)."""
    app[FEED_BODIES] = BodyCache(app[SETTINGS].feeds.cache_bytes)
    app.router.add_get("/feeds/{token:[A-Za-z0-9_-]{1,128}}.ics", serve_feed)
