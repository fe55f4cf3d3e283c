"""REPORTs on an iPoint calendar answered straight from the store (RFC 4791 7.8 and 7.9,
RFC 6578 3).

Radicale answers a REPORT by building an ElementTree of every item with its path checks and
serialises it; for a week of a technician's calendar that machinery is most of a 5 ms answer,
and an incremental sync-collection pays it for a handful of changes. What clients actually send
is a few fixed forms: a calendar-query with a VEVENT time-range, a sync-collection, a
calendar-multiget of the hrefs a sync reported, each asking for DAV:getetag, CALDAV:calendar-data
and DAV:getcontenttype. ``parse`` recognises exactly those (anything else returns None and
Radicale answers it through the plugin, from the same store); ``answer`` writes the multistatus
as text from the stored VEVENT blocks, streamed, so a 100k-event initial sync never sits in
memory. The WSGI front runs it inside one read snapshot, after the gate has let the user in.

The answer is Radicale's, element for element, but for two points: the sync-token follows the
responses (RFC 6578 6.4's order; WebDAV clients accept either), and there is no upper bound on
the number of items returned (Radicale stops at ``[reporting] max_expand_occurrence`` events, a
guard for expansion that also breaks a full listing of a large calendar with calendar-data).
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from urllib.parse import quote, unquote, urlparse

from radicale import item as radicale_item
from radicale import pathutils
from radicale.app.report import test_filter
from radicale.item import filter as radicale_filter

from ..errors import UnknownSyncToken
from ..ical import item_text
from ..store import EventStore
from . import layout
from .timerange import MAX_STEPS, RangeRead, bounds, in_range, read_range
from .tokens import make_token, parse_token

logger = logging.getLogger(__name__)

DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"
GETETAG, GETCONTENTTYPE, CALENDAR_DATA = (
    DAV + "getetag",
    DAV + "getcontenttype",
    CALDAV + "calendar-data",
)
CONTENT_TYPE = "text/calendar;charset=utf-8;component=VEVENT"
_PAGE = 500  # ids per store read, as the plugin's listings

HEAD = (
    "<?xml version='1.0' encoding='utf-8'?>\n"
    '<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
)
_OK = "</prop><status>HTTP/1.1 200 OK</status></propstat></response>"
_GONE = "</href><status>HTTP/1.1 404 Not Found</status></response>"


@dataclass(frozen=True, slots=True)
class RangeQuery:
    """calendar-query: the VEVENTs with an instance in [start, end) (POSIX seconds; Radicale's
    open bounds when the filter has none)."""

    props: tuple[str, ...]
    start: int
    end: int
    filters: tuple[ET.Element, ...]


@dataclass(frozen=True, slots=True)
class SyncQuery:
    """sync-collection from ``token`` ("" for an initial sync)."""

    props: tuple[str, ...]
    token: str


@dataclass(frozen=True, slots=True)
class MultiGet:
    """calendar-multiget of item names in this calendar, in request order."""

    props: tuple[str, ...]
    names: tuple[str, ...]


Query = RangeQuery | SyncQuery | MultiGet


# ------------------------------------------------------------------ request


def parse(root: ET.Element, prefix: str, where: layout.CalendarPath) -> Query | None:
    """The query in a REPORT body on ``where`` (parsed by ``bodies.check_xml``: no DTD, hrefs
    within their limits), None when it is not one answered here."""
    children = [child.tag for child in root]
    props = _props(root.find(DAV + "prop"))
    if props is None:
        return None
    if root.tag == CALDAV + "calendar-query":
        if not set(children) <= {DAV + "prop", CALDAV + "filter"}:
            return None  # allprop, propname, a CALDAV:timezone
        filters = tuple(root.findall(CALDAV + "filter"))
        try:
            tag, start, end, simple = radicale_filter.simplify_prefilters(filters, "VCALENDAR")
        except ValueError:
            return None  # a malformed time-range: Radicale's 400
        if not simple or tag not in (None, "VEVENT"):
            return None
        return RangeQuery(props, start, end, filters)
    if root.tag == DAV + "sync-collection":
        if not set(children) <= {DAV + "prop", DAV + "sync-token", DAV + "sync-level"}:
            return None  # a DAV:limit, or a filter Radicale would apply
        return SyncQuery(props, (root.findtext(DAV + "sync-token") or "").strip())
    if root.tag == CALDAV + "calendar-multiget":
        if not set(children) <= {DAV + "prop", DAV + "href"}:
            return None
        names: dict[str, None] = {}
        for element in root.findall(DAV + "href"):
            name = _name_in(element.text or "", prefix, where)
            if name is None:
                return None  # another collection, or the calendar itself
            names[name] = None
        return MultiGet(props, tuple(names))
    return None


def _props(prop: ET.Element | None) -> tuple[str, ...] | None:
    if prop is None:
        return None
    wanted = []
    for element in prop:
        if element.tag not in (GETETAG, GETCONTENTTYPE, CALENDAR_DATA):
            return None  # Radicale answers other properties (with 404 propstats)
        if len(element) or element.attrib:
            return None  # calendar-data with comp/prop selection, expand, limit-recurrence-set
        wanted.append(element.tag)
    return tuple(wanted) or None


def _name_in(href: str, prefix: str, where: layout.CalendarPath) -> str | None:
    """The item name an href addresses in ``where``, as Radicale resolves a multiget href."""
    path = pathutils.sanitize_path(unquote(urlparse(href).path))
    if not (path + "/").startswith(prefix + "/"):
        return None
    hit = layout.parse(pathutils.strip_path(path[len(prefix) :]))
    if hit is None or hit[0] != where or hit[1] is None:
        return None
    return hit[1]


# ------------------------------------------------------------------ answer


def expand(
    store: EventStore, where: layout.CalendarPath, query: Query, limit: int = MAX_STEPS
) -> RangeRead | None:
    """For a time-range query, the range read once (``timerange.read_range``): whether each
    series in it has an instance in the range, the only costly part of an answer, done first,
    outside the front's answer lock."""
    if not isinstance(query, RangeQuery):
        return None
    span = bounds(query.start, query.end)
    if span is None:
        return None
    read = read_range(store, where.calendar, *span, limit)
    verdicts = read.verdicts
    if None in verdicts.values():  # rules only vobject reads: Radicale's filter, also here
        events = read.events if read.events is not None else store.iter_range(where.calendar, *span)
        for event in events:
            if event.id in verdicts and verdicts[event.id] is None:
                verdicts[event.id] = _radicale_matches(where, event.ics, event.tzid, query.filters)
    return read


def answer(
    store: EventStore,
    where: layout.CalendarPath,
    query: Query,
    prefix: str,
    expanded: RangeRead | None = None,
    limit: int = MAX_STEPS,
) -> Iterator[str] | None:
    """The multistatus for ``query`` piece by piece, or None when Radicale must answer (a sync
    token that is not this store's current history: Radicale gives RFC 6578's error). Run
    inside a read snapshot held until the pieces are consumed; ``expanded`` from ``expand``
    in the same snapshot."""
    base = quote(f"{prefix}/{where.path}/")
    calendar = where.calendar
    if isinstance(query, SyncQuery):
        if not query.token:
            state = store.calendar_state(calendar)
            token = make_token(store.instance, state.seq if state else 0)
            stamps = store.stamps(calendar)
            return _document(_pages(store, calendar, stamps, query.props, base), token)
        try:
            changes = store.changes_since(calendar, parse_token(query.token, store.instance))
        except (ValueError, UnknownSyncToken):
            return None
        live = [c.event_id for c in changes.changes if not c.deleted]
        gone = [c.event_id for c in changes.changes if c.deleted]
        pieces = chain(
            _by_ids(store, calendar, live, query.props, base),
            (_missing(base, layout.href_for(event_id)) for event_id in gone),
        )
        return _document(pieces, make_token(store.instance, changes.seq))
    if isinstance(query, MultiGet):
        wanted: list[str] = []
        missing: list[str] = []
        for name in query.names:
            event_id = layout.event_id_for(name)
            if event_id is None:
                missing.append(name)  # no event can have this name
            else:
                wanted.append(event_id)  # and href_for(event_id) == name
        found = _by_ids(store, calendar, wanted, query.props, base)
        return _document(chain(found, (_missing(base, n) for n in missing)), None)
    span = bounds(query.start, query.end)
    if span is None:
        return _document(_pages(store, calendar, store.stamps(calendar), query.props, base), None)
    return _document(_in_range(store, where, span, query, base, expanded, limit), None)


def _document(pieces: Iterable[str], token: str | None) -> Iterator[str]:
    yield HEAD
    yield from pieces
    if token is not None:
        yield f"<sync-token>{_escape(token)}</sync-token>"
    yield "</multistatus>"


def _in_range(
    store: EventStore,
    where: layout.CalendarPath,
    span: tuple[datetime, datetime],
    query: RangeQuery,
    base: str,
    expanded: RangeRead | None,
    limit: int,
) -> Iterator[str]:
    for event, decided in in_range(store, where.calendar, *span, limit, expanded):
        if not decided and not _radicale_matches(where, event.ics, event.tzid, query.filters):
            continue
        yield _response(
            base, layout.href_for(event.id), event.etag, query.props, event.ics, event.tzid
        )


def _radicale_matches(
    where: layout.CalendarPath, vevent: str, tzid: str, filters: Sequence[ET.Element]
) -> bool:
    """Radicale's own filter on the parsed item: for a series whose rule only vobject reads."""
    item = radicale_item.Item(collection_path=where.path, text=item_text(vevent, tzid))
    try:
        return all(test_filter("VCALENDAR", item, f) for f in filters)
    except Exception:  # Radicale's filter raises many kinds; an unreadable item is left out
        logger.warning("time-range filter failed on an item of %s", where.path, exc_info=True)
        return False


def _pages(
    store: EventStore,
    calendar: str,
    stamps: Iterable[tuple[str, str, float]],
    props: tuple[str, ...],
    base: str,
) -> Iterator[str]:
    page: list[tuple[str, str, float]] = []
    for stamp in stamps:
        page.append(stamp)
        if len(page) == _PAGE:
            yield from _render(store, calendar, page, props, base)
            page = []
    yield from _render(store, calendar, page, props, base)


def _by_ids(
    store: EventStore,
    calendar: str,
    event_ids: list[str],
    props: tuple[str, ...],
    base: str,
) -> Iterator[str]:
    """Responses for live events among ``event_ids``, and 404s for the others."""
    for i in range(0, len(event_ids), _PAGE):
        chunk = event_ids[i : i + _PAGE]
        page = list(store.stamps(calendar, chunk))
        yield from _render(store, calendar, page, props, base)
        if len(page) < len(chunk):
            seen = {stamp[0] for stamp in page}
            for event_id in chunk:
                if event_id not in seen:
                    yield _missing(base, layout.href_for(event_id))


def _render(
    store: EventStore,
    calendar: str,
    page: list[tuple[str, str, float]],
    props: tuple[str, ...],
    base: str,
) -> Iterator[str]:
    if not page:
        return
    blocks = store.blocks(calendar, [s[0] for s in page]) if CALENDAR_DATA in props else {}
    for event_id, etag, _ in page:
        vevent, tzid = blocks.get(event_id, ("", ""))
        if CALENDAR_DATA in props and not vevent:
            # Gone between the listing and the text (same snapshot: only by a store fault).
            yield _missing(base, layout.href_for(event_id))
            continue
        yield _response(base, layout.href_for(event_id), etag, props, vevent, tzid)


def _response(
    base: str, name: str, etag: str, props: tuple[str, ...], vevent: str, tzid: str
) -> str:
    parts = [f"<response><href>{base}{quote(name)}</href><propstat><prop>"]
    for prop in props:
        if prop == GETETAG:
            parts.append(f'<getetag>"{etag}"</getetag>')
        elif prop == GETCONTENTTYPE:
            parts.append(f"<getcontenttype>{CONTENT_TYPE}</getcontenttype>")
        else:
            text = _escape(item_text(vevent, tzid))
            parts.append(f"<C:calendar-data>{text}</C:calendar-data>")
    parts.append(_OK)
    return "".join(parts)


def _missing(base: str, name: str) -> str:
    return f"<response><href>{base}{quote(name)}{_GONE}"


def _escape(text: str) -> str:
    # XML character data, as ElementTree escapes it.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
