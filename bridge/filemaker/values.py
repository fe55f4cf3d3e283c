"""FileMaker's values as text: dates, times and timestamps in the file's US format or ISO 8601,
numbers, and text with FileMaker's control characters.

The Data API sends dates as ``MM/dd/yyyy``, times as ``HH:mm:ss`` and timestamps as ``MM/dd/yyyy
HH:mm:ss`` (US, the default), or ISO 8601 when asked with ``dateformats=2``; exports use the
file's format, where a US file may write ``h:mm:ss AM``. None carries a zone: they are wall
times of the shop. The two forms cannot be confused (``/`` against ``-``), so each value is read
in whichever it is.

Text: FileMaker keeps a return as CR, writes it as a vertical tab (0x0B) in CSV and tab exports,
and separates repeating values with the group separator (0x1D). iCalendar and XML cannot carry
those, nor the other C0 controls, so ``clean_text`` turns returns into ``\\n``, repetitions into
lines, and drops the rest (tab stays).
"""

from __future__ import annotations

import datetime as dt
import re

VT = "\x0b"
GS = "\x1d"
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:\s*([AaPp])\.?[Mm]\.?)?")
_DROP = re.compile(r"[\x00-\x08\x0c\x0e-\x1c\x1e\x1f\x7f]")


class ValueFormatError(ValueError):
    """A value is not a date, time or timestamp FileMaker writes; the message names it."""


def clean_text(text: str) -> str:
    """FileMaker text as plain text: returns as ``\\n``, repetitions on lines, no controls."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace(VT, "\n").replace(GS, "\n")
    return _DROP.sub("", text)


def split_values(text: str) -> list[str]:
    """A list kept in one field: values separated by returns, repetitions or commas."""
    return [p.strip() for p in re.split(r"[\r\n\x0b\x1d,]+", text) if p.strip()]


def parse_date(text: str) -> dt.date:
    value = text.strip()
    us, iso = _US_DATE.fullmatch(value), _ISO_DATE.fullmatch(value)
    try:
        if us:
            return dt.date(int(us[3]), int(us[1]), int(us[2]))
        if iso:
            return dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
    except ValueError:
        raise ValueFormatError(f"{text!r} is not a real date") from None
    raise ValueFormatError(f"{text!r} is not a date (MM/dd/yyyy or yyyy-MM-dd)")


def parse_time(text: str) -> dt.time:
    m = _TIME.fullmatch(text.strip())
    if not m:
        raise ValueFormatError(f"{text!r} is not a time (HH:mm:ss)")
    hour, minute, second = int(m[1]), int(m[2]), int(m[3] or 0)
    if m[4]:
        if not 1 <= hour <= 12:
            raise ValueFormatError(f"{text!r} is not a real time")
        hour = hour % 12 + (12 if m[4] in "Pp" else 0)
    try:
        return dt.time(hour, minute, second)
    except ValueError:
        raise ValueFormatError(f"{text!r} is not a real time") from None


def parse_timestamp(text: str) -> dt.datetime:
    """A timestamp (``MM/dd/yyyy HH:mm:ss`` or ISO ``yyyy-MM-ddTHH:mm:ss``), naive wall time."""
    value = text.strip()
    day, sep, clock = value.replace("T", " ", 1).partition(" ")
    try:
        date = parse_date(day)
        time = parse_time(clock) if sep else dt.time(0)
    except ValueFormatError:
        raise ValueFormatError(
            f"{text!r} is not a timestamp (MM/dd/yyyy HH:mm:ss or yyyy-MM-ddTHH:mm:ss)"
        ) from None
    return dt.datetime.combine(date, time)


def format_timestamp(value: dt.datetime, iso: bool = False) -> str:
    """A naive wall time as FileMaker writes it (for find criteria: US, or ISO with
    ``dateformats=2``)."""
    if iso:
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    return value.strftime("%m/%d/%Y %H:%M:%S")


def as_text(value: object) -> str:
    """A Data API value as text: numbers come as JSON numbers, everything else as strings."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
