"""Reading one field of a raw ingest record: text (cleaned and bounded), logins, booleans;
and quoting a value in a problem. Each reader records a problem through ``Fail`` (field,
reason) instead of raising, so a record's every problem is reported at once."""

from __future__ import annotations

import math
from collections.abc import Callable

from .records import LOGIN_RE, LOGIN_RULE
from .text import clean

Fail = Callable[[str, str], None]
"""Records one problem: (field, reason)."""
_TRUE = {"1", "yes", "true", "y", "on"}
_FALSE = {"0", "no", "false", "n", "off", ""}


def show(value: object) -> str:
    """A value quoted in a problem, cut to a few dozen characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def text_of(value: object) -> str | None:
    if isinstance(value, str):
        return value  # first: nearly every value is text, and this runs a dozen times a record
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if abs(value) < 10**20 else None
    if isinstance(value, float):
        return str(value) if math.isfinite(value) else None
    return None


def logins(value: object, limit: int) -> list[str] | str:
    """The attendee logins, or why they are refused; the count is checked before any login is
    read, so a list of 20,000 costs nothing."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items: list[object] = [x for x in (p.strip() for p in value.split(",")) if x]
    elif isinstance(value, list):
        items = value
    else:
        return "must be a list of logins or a comma-separated string"
    if len(items) > limit:
        return f"{len(items)} attendees, more than {limit} ([ingest] max_attendees)"
    out: list[str] = []
    for item in items:
        if not isinstance(item, str) or not LOGIN_RE.fullmatch(item.strip()):
            return f"{show(item)} is not a login ({LOGIN_RULE})"
        out.append(item.strip())
    return out


def boolean(value: object) -> bool | None:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    return None


def clean_text(fail: Fail, field: str, value: object, limit: int, option: str) -> str | None:
    """A text field cleaned for iCalendar and XML (``bridge.text``), or None when empty; its
    length is checked first, on the raw value, against ``limit`` (``[ingest] option``)."""
    if value is None:
        return None
    text = text_of(value)
    if text is None:
        fail(field, "must be text")
        return None
    if len(text) > limit:
        fail(field, f"is {len(text)} characters, longer than {limit} ([ingest] {option})")
        return None
    return clean(text).strip() or None
