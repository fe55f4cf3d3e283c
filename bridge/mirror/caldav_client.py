"""Reading a CalDAV collection incrementally.

- Change detection: a Depth 0 PROPFIND for ``DAV:sync-token`` and ``CS:getctag``; when neither
  moved since the last read, nothing else is asked.
- Changes: RFC 6578 ``sync-collection`` (Depth 0, sync-level 1) from the stored token; an empty
  token lists everything. A token the server no longer knows (403/409 with
  ``DAV:valid-sync-token``, or any refusal of a non-empty token) means a full resync, in a loop
  and not by recursion.
- Contents: RFC 4791 7.9 ``calendar-multiget`` of the changed hrefs, in chunks, so memory stays
  bounded by the chunk and not by the calendar.
- Servers without sync-collection: a Depth 1 PROPFIND of ETags, compared with the stored ones.
"""

from __future__ import annotations

import base64
import logging
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import aiohttp

from ..redact import redact_text, redact_url
from .sources import Page, RawItem, SourceSpec

logger = logging.getLogger(__name__)

NS = {"D": "DAV:", "C": "urn:ietf:params:xml:ns:caldav", "CS": "http://calendarserver.org/ns/"}
MULTIGET_CHUNK = 200


class SourceError(Exception):
    """A source could not be read; the message is plain words for the admin page."""


def auth_headers(spec: SourceSpec) -> dict[str, str]:
    """HTTP Basic credentials of the source (RFC 7617), if it has any."""
    if not spec.username:
        return {}
    raw = f"{spec.username}:{spec.password}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def _headers(spec: SourceSpec, depth: str) -> dict[str, str]:
    return {"Depth": depth, "Content-Type": "application/xml; charset=utf-8", **auth_headers(spec)}


def _tag(ns: str, name: str) -> str:
    return f"{{{NS[ns]}}}{name}"


async def _request(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    spec: SourceSpec,
    body: str,
    depth: str,
) -> tuple[int, bytes]:
    headers = _headers(spec, depth)
    try:
        async with session.request(method, url, data=body.encode(), headers=headers) as resp:
            return resp.status, await resp.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise SourceError(
            f"cannot reach {_safe(url)}: {type(exc).__name__} {redact_text(str(exc))}"
        ) from exc


async def _multistatus(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    spec: SourceSpec,
    body: str,
    depth: str,
    on_response: Callable[[ET.Element], None],
) -> tuple[int, str | None]:
    """Send a request answered by a 207 multistatus and hand each ``DAV:response`` to
    ``on_response`` while the answer streams in, dropping it afterwards: a listing of a
    100,000-event calendar never sits in memory as one tree. Returns the status and the
    top-level ``DAV:sync-token`` (RFC 6578 6.2), if any."""
    headers = _headers(spec, depth)
    response_tag, token_tag = _tag("D", "response"), _tag("D", "sync-token")
    token: str | None = None
    try:
        async with session.request(method, url, data=body.encode(), headers=headers) as resp:
            if resp.status != 207:
                await resp.read()
                return resp.status, None
            parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
            root: ET.Element | None = None
            depth_now = 0
            async for chunk in resp.content.iter_chunked(1 << 16):
                parser.feed(chunk)
                for item in parser.read_events():
                    event, found = item if len(item) == 2 else ("", None)
                    if not isinstance(found, ET.Element):
                        continue
                    elem = found
                    if event == "start":
                        depth_now += 1
                        if root is None:
                            root = elem
                        continue
                    depth_now -= 1
                    if depth_now != 1 or root is None:
                        continue
                    if elem.tag == response_tag:
                        on_response(elem)
                    elif elem.tag == token_tag:
                        token = (elem.text or "").strip()
                    root.remove(elem)
            parser.close()
    except ET.ParseError as exc:
        raise SourceError(f"the server's XML answer is not valid: {exc}") from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise SourceError(
            f"cannot reach {_safe(url)}: {type(exc).__name__} {redact_text(str(exc))}"
        ) from exc
    return 207, token


def _safe(url: str) -> str:
    """A URL fit for logs and the admin page (``bridge.redact``: feed tokens live in paths)."""
    return redact_url(url)


def _status_error(status: int, url: str, what: str) -> SourceError:
    if status == 401:
        return SourceError(f"{_safe(url)} refused the login for {what} (401): check the password")
    if status == 403:
        return SourceError(f"{_safe(url)} forbids {what} (403) for this login")
    if status == 404:
        return SourceError(f"{_safe(url)} does not exist (404)")
    return SourceError(f"{_safe(url)} answered {status} to {what}")


def _responses(content: bytes) -> tuple[list[ET.Element], ET.Element]:
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise SourceError(f"the server's XML answer is not valid: {exc}") from exc
    return root.findall("D:response", NS), root


def _href(resp: ET.Element) -> str:
    text = resp.findtext("D:href", default="", namespaces=NS)
    return unquote(urlsplit(text.strip()).path)


def _ok_props(resp: ET.Element) -> ET.Element | None:
    for propstat in resp.findall("D:propstat", NS):
        status = propstat.findtext("D:status", default="", namespaces=NS)
        if " 200 " in status or status.endswith(" 200"):
            return propstat.find("D:prop", NS)
    return None


def _resp_status(resp: ET.Element) -> str:
    return resp.findtext("D:status", default="", namespaces=NS)


async def probe(session: aiohttp.ClientSession, spec: SourceSpec) -> dict[str, Any]:
    """Depth 0 PROPFIND: sync-token, getctag, and whether this is a calendar collection."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" '
        'xmlns:CS="http://calendarserver.org/ns/"><D:prop><D:sync-token/><CS:getctag/>'
        "<D:resourcetype/></D:prop></D:propfind>"
    )
    status, content = await _request(session, "PROPFIND", spec.url + "/", spec, body, "0")
    if status != 207:
        raise _status_error(status, spec.url, "PROPFIND")
    responses, _ = _responses(content)
    prop = _ok_props(responses[0]) if responses else None
    if prop is None:
        return {"sync_token": None, "ctag": None, "calendar": False}
    rtype = prop.find("D:resourcetype", NS)
    return {
        "sync_token": (prop.findtext("D:sync-token", default="", namespaces=NS) or None),
        "ctag": (prop.findtext("CS:getctag", default="", namespaces=NS) or None),
        "calendar": rtype is not None and rtype.find("C:calendar", NS) is not None,
    }


async def _sync_collection(
    session: aiohttp.ClientSession, spec: SourceSpec, token: str
) -> tuple[dict[str, str | None], list[str], str] | None:
    """(changed href -> etag, removed hrefs, new token), or None when the token is refused."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:">'
        f"<D:sync-token>{_xml_text(token)}</D:sync-token><D:sync-level>1</D:sync-level>"
        "<D:prop><D:getetag/></D:prop></D:sync-collection>"
    )
    base = urlsplit(spec.url).path.rstrip("/")
    changed: dict[str, str | None] = {}
    removed: list[str] = []

    def take(resp: ET.Element) -> None:
        href = _href(resp)
        if href.rstrip("/") == base:
            return
        if " 404" in _resp_status(resp):
            removed.append(href)
            return
        prop = _ok_props(resp)
        etag = prop.findtext("D:getetag", default="", namespaces=NS) if prop is not None else ""
        changed[href] = etag or None

    status, new_token = await _multistatus(session, "REPORT", spec.url + "/", spec, body, "0", take)
    if status in (403, 409, 412, 400) and token:
        logger.info("sync token of %s refused (%d): full resync", _safe(spec.url), status)
        return None
    if status != 207:
        raise _status_error(status, spec.url, "sync-collection")
    return changed, removed, new_token or ""


async def _etag_listing(session: aiohttp.ClientSession, spec: SourceSpec) -> dict[str, str | None]:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>'
        "<D:getetag/><D:resourcetype/></D:prop></D:propfind>"
    )
    base = urlsplit(spec.url).path.rstrip("/")
    out: dict[str, str | None] = {}

    def take(resp: ET.Element) -> None:
        href = _href(resp)
        prop = _ok_props(resp)
        if href.rstrip("/") == base or prop is None:
            return
        rtype = prop.find("D:resourcetype", NS)
        if rtype is not None and len(rtype):
            return
        out[href] = prop.findtext("D:getetag", default="", namespaces=NS) or None

    status, _ = await _multistatus(session, "PROPFIND", spec.url + "/", spec, body, "1", take)
    if status != 207:
        raise _status_error(status, spec.url, "PROPFIND")
    return out


async def multiget(
    session: aiohttp.ClientSession, spec: SourceSpec, hrefs: list[str]
) -> list[RawItem]:
    """Contents of ``hrefs`` (absolute paths) in one calendar-multiget."""
    refs = "".join(f"<D:href>{_xml_text(quote(h))}</D:href>" for h in hrefs)
    body = (
        '<?xml version="1.0" encoding="utf-8"?><C:calendar-multiget xmlns:D="DAV:" '
        'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/>'
        f"</D:prop>{refs}</C:calendar-multiget>"
    )
    items: list[RawItem] = []

    def take(resp: ET.Element) -> None:
        prop = _ok_props(resp)
        if prop is None:
            return  # removed between the listing and now: the next read reports it
        text = prop.findtext("C:calendar-data", default="", namespaces=NS)
        if text:
            etag = prop.findtext("D:getetag", default="", namespaces=NS) or None
            items.append(RawItem(_href(resp), etag, text))

    status, _ = await _multistatus(session, "REPORT", spec.url + "/", spec, body, "1", take)
    if status != 207:
        raise _status_error(status, spec.url, "calendar-multiget")
    return items


def _xml_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


async def read(
    session: aiohttp.ClientSession,
    spec: SourceSpec,
    position: Mapping[str, Any],
    known_etags: Mapping[str, str | None] | None = None,
) -> AsyncIterator[Page]:
    """Pages of what changed since ``position`` (``sync_token``, ``ctag``); nothing when
    nothing changed. ``known_etags`` (stored item ETags) serves servers without
    sync-collection.

    Raises:
        SourceError: the collection cannot be read.
    """
    head = await probe(session, spec)
    token = position.get("sync_token") or ""
    same_token = bool(token) and head["sync_token"] == token
    same_ctag = head["ctag"] is not None and head["ctag"] == position.get("ctag")
    if (same_token and (head["ctag"] is None or same_ctag)) or (
        head["sync_token"] is None and same_ctag
    ):
        return
    new_pos: dict[str, Any] = {"ctag": head["ctag"]}
    full = False
    result = None
    if head["sync_token"] is not None or token:
        result = await _sync_collection(session, spec, token)
        if result is None:
            full = True
            result = await _sync_collection(session, spec, "")
            if result is None:
                raise SourceError(f"{_safe(spec.url)} refuses a sync-collection from scratch")
        full = full or not token
    if result is not None:
        changed, removed, new_pos["sync_token"] = result
        present = frozenset(changed) if full else None
    else:
        # No sync-collection: compare the ETag listing with what was stored.
        listing = await _etag_listing(session, spec)
        known = known_etags or {}
        changed = {h: e for h, e in listing.items() if e is None or known.get(h) != e}
        removed = [h for h in known if h not in listing]
        present = frozenset(listing)
        new_pos["sync_token"] = None
    hrefs = sorted(changed)
    for i in range(0, len(hrefs), MULTIGET_CHUNK):
        chunk = hrefs[i : i + MULTIGET_CHUNK]
        yield Page(items=tuple(await multiget(session, spec, chunk)))
    yield Page(removed=tuple(removed), present=present, position=new_pos, last=True)
