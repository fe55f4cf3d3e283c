"""RFC 3339 times as the Calendar API reads and writes them.

``updated``/``created`` are UTC with milliseconds (``2024-05-01T12:34:56.789Z``); event
``dateTime`` values are echoed in the event's ``timeZone`` (else the calendar's) with a numeric
offset, as Google normalises them; query bounds (``timeMin``/``timeMax``) need an offset.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$"
)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo | None:
    """The IANA zone, or ``None`` when the name is not one."""
    if not name or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_datetime(text: str) -> datetime:
    """Parse RFC 3339; naive when the text has no offset. Raises ``ValueError``."""
    match = _RFC3339.match(text.strip())
    if not match:
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    frac = match.group(7)
    micro = int((frac[1:] + "000000")[:6]) if frac else 0
    offset = match.group(8)
    tzinfo: timezone | None = None
    if offset:
        if offset in ("Z", "z"):
            tzinfo = UTC
        else:
            sign = 1 if offset[0] == "+" else -1
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            tzinfo = timezone(sign * timedelta(hours=hours, minutes=minutes))
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=tzinfo)


def parse_aware(text: str) -> datetime:
    """Parse RFC 3339 with a mandatory offset. Raises ``ValueError``."""
    value = parse_datetime(text)
    if value.tzinfo is None:
        raise ValueError(f"offset required: {text!r}")
    return value


def parse_date(text: str) -> date:
    """Parse ``yyyy-mm-dd``. Raises ``ValueError``."""
    if not _DATE.match(text.strip()):
        raise ValueError(f"not a date: {text!r}")
    return date.fromisoformat(text.strip())


def format_ts(ts: float) -> str:
    """A UTC timestamp the way Google writes ``updated``."""
    value = datetime.fromtimestamp(ts, UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def format_in_zone(value: datetime, tz: ZoneInfo) -> str:
    """An aware date-time shown in ``tz``: ``Z`` for UTC, else ``+hh:mm``."""
    local = value.astimezone(tz)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    offset = local.utcoffset() or timedelta(0)
    if tz.key in ("UTC", "Etc/UTC"):
        return text + "Z"
    total = int(offset.total_seconds()) // 60
    sign = "+" if total >= 0 else "-"
    total = abs(total)
    return f"{text}{sign}{total // 60:02d}:{total % 60:02d}"


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """Attach ``tz`` to a wall time (``fold=0``: the first of a repeated hour)."""
    return naive.replace(tzinfo=tz)


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """Midnight of ``day`` in ``tz``, as an aware date-time."""
    return datetime(day.year, day.month, day.day, tzinfo=tz)
