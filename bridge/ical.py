"""RFC 5545 rendering of the bridge's events: one VEVENT per record, VTIMEZONEs, calendars.

Written by hand rather than through a component tree because the store renders every record at
ingest (10,000 a second is the target) and serves calendars by concatenating stored blocks.
Output: CRLF line ends, lines folded at 75 octets without splitting a UTF-8 sequence (3.1),
TEXT values escaped (3.3.11).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from . import __version__
from .records import EventRecord
from .text import clean, xml_safe
from .timeutil import basic_date, basic_stamp, utc_stamp, zone

CRLF = "\r\n"
PRODID = "-//ipoint-bridge//ipoint-bridge {}//EN".format(".".join(__version__.split(".")[:2]))
"""Major and minor version only: a patch release does not change what calendars look like."""
UID_PREFIX = "ipoint-"
KIND_LABEL = {"work_order": "Work order", "event": "Event"}
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/Zulu", "Zulu", "Universal", "Etc/Universal"})
#: What TEXT escaping changes: most values have none, and then the six replaces are skipped.
_ESCAPED = re.compile(r"[\\;,\r\n]")


def escape_text(value: str) -> str:
    """TEXT escaping of RFC 5545 3.3.11 (backslash, semicolon, comma, newline), after dropping
    the controls TEXT and XML cannot carry (``bridge.text.clean``: ingest already did, this
    guards every other caller)."""
    value = clean(value)
    if _ESCAPED.search(value) is None:
        return value
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\r", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Fold one content line at 75 octets (3.1), never inside a UTF-8 sequence."""
    if line.isascii():
        # Most lines: one octet per character (isascii costs nothing), so cut the text itself.
        if len(line) <= 75:
            return line
        rest = range(75, len(line), 74)
        return (CRLF + " ").join([line[:75], *(line[i : i + 74] for i in rest)])
    raw = line.encode()
    if len(raw) <= 75:
        return line
    parts: list[str] = []
    start = 0
    limit = 75
    while start < len(raw):
        end = min(start + limit, len(raw))
        while end < len(raw) and (raw[end] & 0xC0) == 0x80:
            end -= 1
        parts.append(raw[start:end].decode())
        start = end
        limit = 74  # continuation lines begin with one space
    return (CRLF + " ").join(parts)


def uid_for(event_id: str) -> str:
    return UID_PREFIX + event_id


def _is_utc(tzid: str) -> bool:
    return tzid in _UTC_NAMES


def _dt_prop(name: str, value: datetime | date, tzid: str) -> str:
    if isinstance(value, datetime):
        if _is_utc(tzid):
            return f"{name}:{utc_stamp(value)}"
        return f"{name};TZID={tzid}:{basic_stamp(value)}"
    return f"{name};VALUE=DATE:{basic_date(value)}"


def _exdate_prop(values: Iterable[datetime | date], tzid: str) -> str | None:
    items = list(values)
    if not items:
        return None
    first = items[0]
    if isinstance(first, datetime):
        if _is_utc(tzid):
            return "EXDATE:" + ",".join(utc_stamp(v) for v in items if isinstance(v, datetime))
        body = ",".join(basic_stamp(v) for v in items if isinstance(v, datetime))
        return f"EXDATE;TZID={tzid}:{body}"
    return "EXDATE;VALUE=DATE:" + ",".join(basic_date(v) for v in items)


def describe(record: EventRecord) -> str:
    """The description a technician reads: the work-order facts first, then iPoint's text."""
    head = KIND_LABEL.get(record.kind, "Event")
    if record.number:
        head += f" {record.number}"
    lines = [head + (f" – {record.work_status}" if record.work_status else "")]
    if record.customer:
        lines.append(f"Customer: {record.customer}")
    if record.phone:
        lines.append(f"Phone: {record.phone}")
    if record.location:
        lines.append(f"Job site: {record.location}")
    if record.attendees:
        lines.append("Technicians: " + ", ".join(record.calendars))
    if record.status != "confirmed":
        lines.append(f"Status: {record.status}")
    if record.url:
        lines.append(f"Link: {record.url}")
    if record.description:
        lines.append("")
        lines.append(record.description)
    return "\n".join(lines)


def render_vevent(record: EventRecord, revision: int, created: datetime, updated: datetime) -> str:
    """One VEVENT block (CRLF-terminated lines) for a stored revision of ``record``.

    SEQUENCE is ``revision - 1`` so the first version is 0 and every change raises it (5.2.4).
    """
    tzid = record.timezone
    stamp = utc_stamp(updated)
    event_id = escape_text(record.id)
    lines = [
        "BEGIN:VEVENT",
        "UID:" + UID_PREFIX + event_id,  # = escape_text(uid_for(id)): the prefix needs none
        "DTSTAMP:" + stamp,
        "CREATED:" + (stamp if created == updated else utc_stamp(created)),
        "LAST-MODIFIED:" + stamp,
        f"SEQUENCE:{max(revision - 1, 0)}",
        _dt_prop("DTSTART", record.start, tzid),
    ]
    if record.end != record.start or not isinstance(record.start, datetime):
        # A moment (end == start) has no DTEND: RFC 5545 3.6.1 ends it at its start, and RFC
        # 4791 9.9 then matches it in a time range that contains its start; with DTEND equal
        # to DTSTART it would match no range that begins at that instant.
        lines.append(_dt_prop("DTEND", record.end, tzid))
    lines.append("SUMMARY:" + escape_text(record.title))
    if record.location:
        lines.append("LOCATION:" + escape_text(record.location))
    lines.append("DESCRIPTION:" + escape_text(describe(record)))
    lines.append("STATUS:" + record.status.upper())
    lines.append("CATEGORIES:" + KIND_LABEL.get(record.kind, "Event"))  # no TEXT to escape
    lines.append("TRANSP:" + ("TRANSPARENT" if record.all_day else "OPAQUE"))
    if record.url and "://" in record.url and " " not in record.url:
        lines.append("URL:" + record.url)
    if record.rrule:
        lines.append("RRULE:" + record.rrule)
        exdate = _exdate_prop(record.exdates, tzid)
        if exdate:
            lines.append(exdate)
    lines.append("X-IPOINT-ID:" + event_id)
    lines.append("X-IPOINT-KIND:" + record.kind)
    lines.append("END:VEVENT")
    return CRLF.join(map(fold, lines)) + CRLF


def _offset(delta: timedelta) -> str:
    total = int(delta.total_seconds())
    sign = "+" if total >= 0 else "-"
    total = abs(total)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{seconds:02d}" if seconds else "")


def _transitions(
    tzid: str, first_year: int, last_year: int
) -> list[tuple[datetime, timedelta, timedelta, str, bool]]:
    """(utc instant, offset before, offset after, name after, is dst after) per transition."""
    tz = zone(tzid)
    out: list[tuple[datetime, timedelta, timedelta, str, bool]] = []
    t = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    step = timedelta(days=1)
    prev = t.astimezone(tz).utcoffset()
    while t < end:
        nxt = t + step
        off = nxt.astimezone(tz).utcoffset()
        if off != prev:
            lo, hi = t, nxt
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(tz).utcoffset() == prev:
                    lo = mid
                else:
                    hi = mid
            hi = hi.replace(microsecond=0)
            local = hi.astimezone(tz)
            assert prev is not None and off is not None
            out.append((hi, prev, off, local.tzname() or "", bool(local.dst())))
            prev = off
        t = nxt
    return out


_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _rule_keys(onset: datetime) -> set[tuple[int, int, int, str]]:
    """Yearly rule keys (month, weekday, nth or -1 for last, time) an onset satisfies."""
    nth = (onset.day - 1) // 7 + 1
    keys = {(onset.month, onset.weekday(), nth, onset.strftime("%H%M%S"))}
    if (onset + timedelta(days=7)).month != onset.month:
        keys.add((onset.month, onset.weekday(), -1, onset.strftime("%H%M%S")))
    return keys


def _runs(onsets: list[datetime]) -> list[tuple[list[datetime], tuple[int, int, int, str] | None]]:
    """Split yearly onsets into runs that one RRULE describes (consecutive years, same rule)."""
    runs: list[tuple[list[datetime], set[tuple[int, int, int, str]]]] = []
    for onset in onsets:
        if runs:
            members, keys = runs[-1]
            common = keys & _rule_keys(onset)
            if common and onset.year == members[-1].year + 1:
                members.append(onset)
                runs[-1] = (members, common)
                continue
        runs.append(([onset], _rule_keys(onset)))
    out: list[tuple[list[datetime], tuple[int, int, int, str] | None]] = []
    for members, keys in runs:
        key = sorted(keys, key=lambda k: k[2] == -1)[0] if len(members) > 1 else None
        out.append((members, key))
    return out


@lru_cache(maxsize=64)
def vtimezone(tzid: str, first_year: int = 1970, last_year: int = 2037) -> str:
    """A VTIMEZONE for ``tzid`` (3.6.5) over the given years.

    Transitions are grouped into yearly RRULE runs (with COUNT when a rule stopped), the form
    every client reads; RDATE lists are avoided because common parsers (dateutil, hence vobject
    and Radicale) ignore them. Onsets are local times in the offset in force before them
    (TZOFFSETFROM), as the RFC's examples show.
    """
    tz = zone(tzid)
    start = datetime(first_year, 1, 1, tzinfo=UTC).astimezone(tz)
    init = start.utcoffset() or timedelta()
    groups: dict[tuple[timedelta, timedelta, str, bool], list[datetime]] = {}
    for when, before, after, name, dst in _transitions(tzid, first_year, last_year):
        groups.setdefault((before, after, name, dst), []).append(
            (when + before).replace(tzinfo=None)
        )
    lines = ["BEGIN:VTIMEZONE", "TZID:" + tzid]

    def block(
        dst: bool,
        onset: datetime,
        before: timedelta,
        after: timedelta,
        name: str,
        rrule: str | None,
    ) -> None:
        kind = "DAYLIGHT" if dst else "STANDARD"
        lines.append("BEGIN:" + kind)
        lines.append("DTSTART:" + onset.strftime("%Y%m%dT%H%M%S"))
        if rrule:
            lines.append("RRULE:" + rrule)
        lines.append("TZOFFSETFROM:" + _offset(before))
        lines.append("TZOFFSETTO:" + _offset(after))
        if name:
            lines.append("TZNAME:" + escape_text(name))
        lines.append("END:" + kind)

    if not groups:
        block(bool(start.dst()), datetime(first_year, 1, 1), init, init, start.tzname() or "", None)
    for (before, after, name, dst), onsets in groups.items():
        for members, key in _runs(onsets):
            if key is None:
                for onset in members:
                    block(dst, onset, before, after, name, None)
                continue
            month, weekday, nth, _ = key
            rule = f"FREQ=YEARLY;BYMONTH={month};BYDAY={nth}{_DAYS[weekday]}"
            if members[-1].year < last_year:
                # COUNT, not UNTIL: some parsers (dateutil) read a UTC UNTIL as local time
                # and drop the last onset east of Greenwich.
                rule += f";COUNT={len(members)}"
            block(dst, members[0], before, after, name, rule)
    lines.append("END:VTIMEZONE")
    return "".join(fold(line) + CRLF for line in lines)


def calendar_text(
    vevents: Iterable[str],
    tzids: Iterable[str],
    *,
    name: str | None = None,
    timezone: str | None = None,
    extra: Iterable[str] = (),
) -> str:
    """A VCALENDAR around stored VEVENT blocks, with a VTIMEZONE for each zone used."""
    head = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:" + PRODID, "CALSCALE:GREGORIAN"]
    head.extend(extra)
    if name:
        head.append("X-WR-CALNAME:" + escape_text(name))
    if timezone:
        head.append("X-WR-TIMEZONE:" + timezone)
    parts = ["".join(fold(line) + CRLF for line in head)]
    parts.extend(vtimezone(t) for t in sorted(set(tzids)) if not _is_utc(t))
    parts.extend(vevents)
    parts.append("END:VCALENDAR" + CRLF)
    return "".join(parts)


def item_text(vevent: str, tzid: str) -> str:
    """One event as a complete calendar object resource (RFC 4791 4.1). Every CalDAV answer
    embeds it in XML: a block stored before ingest cleaned text is made XML-safe here."""
    return _item_head(tzid) + xml_safe(vevent) + "END:VCALENDAR" + CRLF


@lru_cache(maxsize=64)
def _item_head(tzid: str) -> str:
    # CalDAV answers wrap every item: the header and VTIMEZONE are the same for a zone.
    whole = calendar_text((), (tzid,))
    return whole[: -len("END:VCALENDAR" + CRLF)]
