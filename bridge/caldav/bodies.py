"""Request bodies on the CalDAV port: their limits, and XML read with DTDs forbidden.

Every body the WSGI front reads or hands to Radicale has passed here, after the caller logged
in (``application``): the size against ``[caldav] max_body_bytes`` / ``max_xml_bytes``, a
``Content-Encoding`` refused (Radicale would inflate a gzip body without a bound), XML parsed by
defusedxml with DTDs forbidden whatever its encoding (a UTF-16 body hides ``<!DOCTYPE`` from a
byte search), and the DAV:href elements counted and measured against ``max_hrefs`` /
``max_href_bytes`` before anyone resolves a path: Radicale's ``sanitize_path`` is quadratic in
path segments, so a 1 MB href costs tens of seconds of CPU.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import defusedxml
import defusedxml.ElementTree as DefusedET

from ..config import CalDAVSettings
from ..errors import BridgeError

XML_METHODS = frozenset({"REPORT", "PROPFIND", "PROPPATCH", "MKCOL", "MKCALENDAR"})
HREF = "{DAV:}href"


class Refusal(BridgeError):
    """A request refused before any work on its body: ``status`` line and a reason for people."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason

    @property
    def code(self) -> int:
        return int(self.status.split(" ", 1)[0])


def body_limit(settings: CalDAVSettings, method: str) -> int:
    return settings.max_xml_bytes if method in XML_METHODS else settings.max_body_bytes


def content_length(environ: dict[str, object]) -> int:
    """The declared body length (0 when none).

    Raises:
        Refusal: not a whole number, or a body in chunked transfer coding (411).
    """
    if str(environ.get("HTTP_TRANSFER_ENCODING", "")).strip():
        raise Refusal("411 Length Required", "send the body with a Content-Length")
    text = str(environ.get("CONTENT_LENGTH") or "0").strip()
    if not (text.isascii() and text.isdigit()):  # "²".isdigit() is true, int("²") fails
        raise Refusal("400 Bad Request", f"Content-Length {text[:40]!r} is not a whole number")
    return int(text)


def check_size(settings: CalDAVSettings, method: str, length: int, coding: str) -> None:
    """Raises Refusal when a body of ``length`` bytes may not be read for ``method``."""
    limit = body_limit(settings, method)
    if length > limit:
        raise Refusal(
            "413 Request Entity Too Large",
            f"a {method} body may have at most {limit} bytes ([caldav] "
            f"{'max_xml_bytes' if method in XML_METHODS else 'max_body_bytes'}); got {length}",
        )
    if coding.strip().lower() not in ("", "identity"):
        raise Refusal("415 Unsupported Media Type", "request bodies must not be compressed")


def check_xml(settings: CalDAVSettings, body: bytes) -> ET.Element | None:
    """``body`` parsed with DTDs, entities and external references forbidden, its hrefs
    checked; None when it is not well-formed XML (Radicale gives its own 400).

    Raises:
        Refusal: a DTD or entity declaration, too many hrefs, or one too long.
    """
    if not body:
        return None
    try:
        root = DefusedET.fromstring(body, forbid_dtd=True)
    except defusedxml.DefusedXmlException as exc:
        raise Refusal(
            "400 Bad Request", "XML with a DTD or entity declarations is not accepted"
        ) from exc
    except (ET.ParseError, ValueError, LookupError):
        return None
    for count, element in enumerate(root.iter(HREF), 1):
        if count > settings.max_hrefs:
            raise Refusal(
                "400 Bad Request",
                f"more than {settings.max_hrefs} DAV:href elements ([caldav] max_hrefs)",
            )
        if len(element.text or "") > settings.max_href_bytes:
            raise Refusal(
                "400 Bad Request",
                f"a DAV:href longer than {settings.max_href_bytes} characters "
                "([caldav] max_href_bytes)",
            )
    return root


def refusal_answer(refusal: Refusal) -> tuple[str, list[tuple[str, str]], bytes]:
    body = (refusal.reason + "\n").encode()
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
    ]
    return refusal.status, headers, body
