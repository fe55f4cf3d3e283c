"""Change detection: normalised iCalendar and content hashes.

Two hashes, each answering one question:

- ``item_hash``: did a source item (a CalDAV resource, or one UID's VEVENTs in an ICS feed)
  change in substance? Its normal form drops the properties a server or exporter changes without
  changing the event: DTSTAMP (time the object was written out, RFC 5545 3.8.7.2), PRODID,
  LAST-MODIFIED, CREATED, and SEQUENCE. SEQUENCE is dropped on purpose: it is scheduling
  bookkeeping (RFC 5546), it rises together with the changes that matter, and Google keeps its
  own ``sequence``; a bump on its own must not cost a Google call. Property order, parameter
  order and line folding are normalised away too.
- ``body_hash``: would Google get a different event? A hash of the Google body the mapping
  produces (with the mapping's version), so a change of configuration (colours, calendar
  footer) or of the mapping itself reaches Google, and a source change Google cannot show
  costs nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import icalendar

VOLATILE = frozenset({"DTSTAMP", "PRODID", "LAST-MODIFIED", "CREATED", "SEQUENCE"})
MAPPING_VERSION = "1"
"""Raise when ``mapping`` changes what it sends, so every event is re-sent once."""


def _prop_line(name: str, value: Any) -> str:
    params = getattr(value, "params", {}) or {}
    ptext = "".join(f";{k.upper()}={params[k]}" for k in sorted(params))
    try:
        raw = value.to_ical()
    except AttributeError:
        raw = str(value).encode()
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return f"{name}{ptext}:{text}"


def normal_form(component: icalendar.cal.Component) -> str:
    """One component as sorted property lines without the volatile ones (subcomponents such
    as VALARM included, in order)."""
    lines: list[str] = []
    for name, value in component.property_items(recursive=False, sorted=False):
        name = name.upper()
        if name in VOLATILE or name in ("BEGIN", "END"):
            continue
        values = value if isinstance(value, list) else [value]
        lines.extend(_prop_line(name, v) for v in values)
    lines.sort()
    inner = [normal_form(sub) for sub in component.subcomponents]
    return "\n".join([f"BEGIN:{component.name}", *lines, *inner, f"END:{component.name}"])


def item_hash(components: Iterable[icalendar.cal.Component], salt: str = "") -> str:
    """Hash of a source item's VEVENTs, independent of their order. ``salt`` carries what
    else shapes the Google bodies (mapping version, zone, colours), so changing it re-maps."""
    parts = sorted(normal_form(c) for c in components)
    return hashlib.sha256("\n".join([salt, *parts]).encode()).hexdigest()[:32]


def body_hash(body: Mapping[str, Any]) -> str:
    """Hash of a Google event body (its ``id`` excluded: it is the row's key)."""
    data = {k: v for k, v in body.items() if k != "id"}
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((MAPPING_VERSION + blob).encode()).hexdigest()[:32]
