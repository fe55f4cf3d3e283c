"""Hypothesis strategies for iPoint records as a hostile or careless sender writes them: every
field mostly plausible, sometimes anything (controls, surrogates, huge numbers, nesting, dates at
the edges of the calendar, rules iPoint never produces)."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import strategies as st

LOGINS = ["chris", "dana", "pat", "sam"]
#: Characters FileMaker and JSON can carry that iCalendar or XML cannot, plus some that can.
NASTY = (
    "\x00\x01\x07\x08\x0b\x0c\x0d\x1b\x1d\x1f\x7f\x85\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800\udfff"
)
TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(NASTY + "\n\r\t\\;,:\"'<>&é中🙂"),
        st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    ),
    max_size=60,
)
WEIRD: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
    st.lists(TEXT, max_size=3),
    st.recursive(
        st.lists(st.integers(), max_size=2), lambda c: st.lists(c, max_size=2), max_leaves=6
    ),
    st.dictionaries(TEXT, st.integers(), max_size=2),
)


def sometimes(good: st.SearchStrategy[Any], odds: int = 5) -> st.SearchStrategy[Any]:
    """``good`` mostly; anything one time in ``odds``."""
    return st.integers(0, odds - 1).flatmap(lambda n: WEIRD if n == 0 else good)


DAYS = st.dates(
    min_value=date(1899, 12, 1),
    max_value=date(2200, 1, 31),
)
EDGES = st.sampled_from(
    [
        "0001-01-01",
        "9999-12-31",
        "0001-01-01T00:00",
        "9999-12-31T23:59:59",
        "9999-12-31T23:00-12:00",
        "0001-01-01T00:30+14:00",
        "2026-02-30",
        "2026-03-08T02:30",
        "2026-11-01T01:30",
        "24:00",
        "",
    ]
)


@st.composite
def when(draw: st.DrawFn) -> str:
    day = draw(DAYS)
    form = draw(st.integers(0, 3))
    if form == 0:
        return day.isoformat()
    hour, minute = draw(st.integers(0, 23)), draw(st.integers(0, 59))
    text = f"{day.isoformat()}T{hour:02d}:{minute:02d}"
    if form == 2:
        text += draw(st.sampled_from(["Z", "+14:00", "-12:00", "+05:45"]))
    if form == 3:
        text = draw(EDGES)
    return text


RULE_PARTS = st.sampled_from(
    [
        "FREQ=DAILY",
        "FREQ=WEEKLY",
        "FREQ=MONTHLY",
        "FREQ=YEARLY",
        "FREQ=HOURLY",
        "FREQ=SECONDLY",
        "COUNT=3",
        "COUNT=100000000",
        "INTERVAL=2",
        "INTERVAL=99999999999",
        "UNTIL=20270101",
        "UNTIL=20270101T000000Z",
        "UNTIL=99991231T235959Z",
        "BYDAY=MO,WE",
        "BYDAY=-1FR",
        "BYMONTH=2",
        "BYMONTHDAY=30",
        "BYMONTHDAY=31",
        "BYSETPOS=10",
        "BYHOUR=1",
        "WKST=SU",
        "X=Y",
    ]
)
RULES = st.one_of(
    st.lists(RULE_PARTS, min_size=1, max_size=4).map(";".join),
    st.sampled_from(["FREQ=WEEKLY;BYDAY=MO", "FREQ=MONTHLY;COUNT=6", "FREQ=DAILY;UNTIL=20261215"]),
)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    """One raw record: half the time valid in structure with hostile text (as a careless
    FileMaker export is), else hostile anywhere."""
    if draw(st.booleans()):
        return draw(plausible_records())
    record: dict[str, Any] = {
        "id": draw(sometimes(IDS)),
        "user": draw(sometimes(st.sampled_from([*LOGINS, ".", "..", "a b", "x" * 70]), 8)),
        "title": draw(sometimes(TEXT.map(lambda t: t + " job"), 8)),
        "start": draw(sometimes(when(), 10)),
    }
    if draw(st.booleans()):
        record["end"] = draw(sometimes(when(), 10))
    for name in ("description", "location", "customer", "phone", "user_name", "number"):
        if draw(st.integers(0, 2)) == 0:
            record[name] = draw(sometimes(TEXT, 8))
    if draw(st.integers(0, 3)) == 0:
        record["attendees"] = draw(
            sometimes(st.lists(st.sampled_from([*LOGINS, ".."]), max_size=4))
        )
    if draw(st.integers(0, 3)) == 0:
        record["rrule"] = draw(sometimes(RULES, 10))
        if draw(st.booleans()):
            record["exdates"] = draw(st.lists(when(), max_size=2))
    if draw(st.integers(0, 5)) == 0:
        record["timezone"] = draw(ZONES)
    if draw(st.integers(0, 5)) == 0:
        record["all_day"] = draw(sometimes(st.booleans()))
    if draw(st.integers(0, 6)) == 0:
        record["modified"] = draw(
            st.sampled_from(["12/01/2026 09:00:00", "13/45/2026 99:00", "12/31/9999 23:59:59"])
        )
    if draw(st.integers(0, 8)) == 0:
        record[draw(TEXT)] = draw(WEIRD)
    return record


IDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True)
ZONES = st.sampled_from(
    ["Europe/Berlin", "UTC", "Asia/Kathmandu", "Mars/Base", "../etc", "x" * 300]
)


@st.composite
def plausible_records(draw: st.DrawFn) -> dict[str, Any]:
    """A record valid in structure (its rule may still be one the bridge refuses) whose text
    fields hold anything."""
    day = draw(st.dates(min_value=date(2026, 11, 1), max_value=date(2027, 2, 28)))
    record: dict[str, Any] = {
        "id": draw(IDS),
        "user": draw(st.sampled_from(LOGINS)),
        "title": draw(TEXT.map(lambda t: "Job " + t)),
    }
    if draw(st.booleans()):
        hour = draw(st.integers(0, 22))
        record["start"] = f"{day}T{hour:02d}:{draw(st.integers(0, 59)):02d}"
        record["end"] = f"{day}T{hour + 1:02d}:00"
    else:
        record["start"] = str(day)
    for name in ("description", "location", "customer", "phone", "user_name", "url"):
        if draw(st.booleans()):
            record[name] = draw(TEXT)
    if draw(st.integers(0, 2)) == 0:
        record["attendees"] = draw(st.lists(st.sampled_from(LOGINS), max_size=3))
    if draw(st.integers(0, 2)) == 0:
        record["rrule"] = draw(RULES)
    if draw(st.integers(0, 4)) == 0:
        record["timezone"] = draw(st.sampled_from(["Europe/Berlin", "UTC", "Asia/Kathmandu"]))
    return record


@st.composite
def accepted_records(draw: st.DrawFn, id: str) -> dict[str, Any]:
    """A record the bridge accepts, with hostile text in every text field."""
    day = draw(
        st.dates(
            min_value=date(2026, 12, 1),
            max_value=date(2026, 12, 20),
        )
    )
    hour = draw(st.integers(6, 20))
    record: dict[str, Any] = {
        "id": id,
        "user": "chris",
        "title": draw(TEXT.map(lambda t: "Job " + t)),
        "start": f"{day}T{hour:02d}:00",
        "end": f"{day}T{hour + 1:02d}:30",
        "description": draw(TEXT),
        "location": draw(TEXT),
        "customer": draw(TEXT),
    }
    if draw(st.booleans()):
        record["rrule"] = draw(
            st.sampled_from(["FREQ=WEEKLY;COUNT=3", "FREQ=DAILY;UNTIL=20261231"])
        )
    return record
