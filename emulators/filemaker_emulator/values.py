"""Values in and out: FileMaker's date formats, as the ``dateformats`` parameter picks them.

``0`` (the default) is US: ``MM/dd/yyyy``, ``HH:mm:ss``, ``MM/dd/yyyy HH:mm:ss``; ``1`` is the
file's locale, which for the emulator's files is US too; ``2`` is ISO 8601 (``yyyy-MM-dd``,
``HH:mm:ss``, ``yyyy-MM-ddTHH:mm:ss``). Empty fields read as ``""``. Numbers read as JSON numbers.
Writes take the same formats; a value that does not parse is FileMaker's 500/501/502.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from filemaker_emulator.errors import FmError
from filemaker_emulator.model import FieldResult, Value

US, FILE, ISO = 0, 1, 2

_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def date_format(raw: Any) -> int:
    """The ``dateformats`` parameter (absent: US); 1708 for anything but 0, 1 or 2."""
    if raw is None or raw == "":
        return US
    text = str(raw)
    if text not in ("0", "1", "2"):
        raise FmError(1708, f"dateformats must be 0, 1 or 2, not {text!r}")
    return int(text)


def parse_date(text: str, fmt: int) -> dt.date | None:
    m = (_ISO_DATE if fmt == ISO else _US_DATE).fullmatch(text.strip())
    if not m:
        return None
    a, b, c = (int(g) for g in m.groups())
    try:
        return dt.date(a, b, c) if fmt == ISO else dt.date(c, a, b)
    except ValueError:
        return None


def parse_time(text: str) -> dt.time | None:
    m = _TIME.fullmatch(text.strip())
    if not m:
        return None
    try:
        return dt.time(int(m[1]), int(m[2]), int(m[3] or 0))
    except ValueError:
        return None


def parse_timestamp(text: str, fmt: int) -> dt.datetime | None:
    sep = "T" if fmt == ISO and "T" in text else " "
    day, _, clock = text.strip().partition(sep)
    date = parse_date(day, fmt)
    time = parse_time(clock) if clock else dt.time(0)
    if date is None or time is None:
        return None
    return dt.datetime.combine(date, time)


def parse_value(raw: Any, result: FieldResult, fmt: int, name: str) -> Value:
    """A value written through the API into a field of type ``result``."""
    if raw is None:
        raise FmError(1708, f"field {name!r} cannot be null")
    if isinstance(raw, bool | list | dict):
        raise FmError(1708, f"field {name!r} takes a string or a number")
    text = str(raw)
    if text == "":
        return None
    if result == "text":
        return text
    if result == "number":
        try:
            return float(text)
        except ValueError:
            raise FmError(502, f"{name!r}: {text!r} is not a number") from None
    parsed: Value
    if result == "date":
        parsed = parse_date(text, fmt)
    elif result == "time":
        parsed = parse_time(text)
    else:
        parsed = parse_timestamp(text, fmt)
    if parsed is None:
        raise FmError(501 if result == "time" else 500, f"{name!r}: {text!r} is not a {result}")
    return parsed


def format_value(value: Value, fmt: int) -> str | int | float:
    """A stored value as the Data API shows it."""
    if value is None:
        return ""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dt.datetime):
        if fmt == ISO:
            return value.strftime("%Y-%m-%dT%H:%M:%S")
        return value.strftime("%m/%d/%Y %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat() if fmt == ISO else value.strftime("%m/%d/%Y")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    return value
