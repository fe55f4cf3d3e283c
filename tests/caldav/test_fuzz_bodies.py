"""Fuzzing the CalDAV port's XML bodies (issue 10): REPORT and PROPFIND bodies built from the
DAV and CalDAV vocabulary, in several encodings, sometimes with a DTD, truncated or with
characters XML cannot carry, sent to a real running server by logged-in users and by nobody.

Whatever arrives: never a 5xx; a 207 parses as XML and every calendar-data in it parses as
iCalendar; a refusal is a 4xx with a body.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from tests.caldav.conftest import Server, record, serving

DAV, CAL = "DAV:", "urn:ietf:params:xml:ns:caldav"
OWN, GRANTED = "/chris/ipoint/", "/boss/ipoint-chris/"
PATHS = [OWN, GRANTED, "/chris/", "/chris/personal/", "/", "/dana/ipoint/", "/chris/ipoint/x.ics"]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("fuzz")) as running:
        running.apply(
            record("plain"),
            record("amp", title="Fix <AV> & lights", description="a\nb"),
            record("allday", start="2026-12-02", end="2026-12-03"),
            record(
                "weekly",
                start="2026-11-02T08:00",
                end="2026-11-02T09:00",
                rrule="FREQ=WEEKLY;COUNT=20",
                exdates=["2026-11-09T08:00"],
            ),
        )
        made = running.request("MKCALENDAR", "/chris/personal/")
        assert made.status == 201, made
        yield running


STAMPS = st.sampled_from(
    ["20261130T060000Z", "20261207T060000Z", "19000101T000000Z", "99991231T235959Z", "2026"]
) | st.text(max_size=20)
NAMES = st.sampled_from(["VCALENDAR", "VEVENT", "VTODO", "VJOURNAL", "VALARM", ""]) | st.text(
    max_size=8
)
TEXT = st.text(max_size=40)  # any code point: some XML cannot carry, which must be a 4xx


def element(tag: str, children: list[ET.Element] | None = None, **attrs: str) -> ET.Element:
    node = ET.Element(tag, attrs)
    node.extend(children or [])
    return node


@st.composite
def props(draw: st.DrawFn) -> ET.Element:
    names = draw(
        st.lists(
            st.sampled_from(
                [
                    f"{{{DAV}}}getetag",
                    f"{{{DAV}}}getcontenttype",
                    f"{{{DAV}}}displayname",
                    f"{{{DAV}}}resourcetype",
                    f"{{{DAV}}}sync-token",
                    f"{{{CAL}}}calendar-data",
                    f"{{{CAL}}}supported-calendar-component-set",
                    "{urn:x}unknown",
                ]
            ),
            max_size=5,
        )
    )
    children = []
    for name in names:
        node = element(name)
        if name.endswith("calendar-data") and draw(st.booleans()):
            node.append(
                draw(
                    st.sampled_from(
                        [
                            element(f"{{{CAL}}}expand", start=draw(STAMPS), end=draw(STAMPS)),
                            element(f"{{{CAL}}}comp", name=draw(NAMES)),
                            element(f"{{{CAL}}}limit-recurrence-set", start=draw(STAMPS)),
                        ]
                    )
                )
            )
        children.append(node)
    return element(f"{{{DAV}}}prop", children)


@st.composite
def filters(draw: st.DrawFn, depth: int = 0) -> ET.Element:
    inner: list[ET.Element] = []
    if draw(st.booleans()):
        attrs = {k: draw(STAMPS) for k in draw(st.sets(st.sampled_from(["start", "end"])))}
        inner.append(element(f"{{{CAL}}}time-range", **attrs))
    if draw(st.booleans()):
        match = element(f"{{{CAL}}}text-match")
        match.text = draw(TEXT)
        inner.append(element(f"{{{CAL}}}prop-filter", [match], name=draw(NAMES)))
    if depth < 2 and draw(st.booleans()):
        inner.append(draw(filters(depth + 1)))
    node = element(f"{{{CAL}}}comp-filter", inner, name=draw(NAMES))
    return node if depth else element(f"{{{CAL}}}filter", [node])


@st.composite
def report(draw: st.DrawFn) -> ET.Element:
    kind = draw(st.sampled_from(["query", "multiget", "sync", "free-busy", "other"]))
    children = [draw(props())] if draw(st.integers(0, 9)) else []
    if kind == "query":
        root = f"{{{CAL}}}calendar-query"
        children += draw(st.lists(filters(), max_size=2))
    elif kind == "multiget":
        root = f"{{{CAL}}}calendar-multiget"
        hrefs = st.sampled_from(PATHS).map(lambda p: p + "plain.ics") | TEXT
        for href in draw(st.lists(hrefs, max_size=6)):
            children.append(element(f"{{{DAV}}}href"))
            children[-1].text = href
    elif kind == "sync":
        root = f"{{{DAV}}}sync-collection"
        token = element(f"{{{DAV}}}sync-token")
        token.text = draw(TEXT | st.just(""))
        level = element(f"{{{DAV}}}sync-level")
        level.text = draw(st.sampled_from(["1", "infinite", "x"]))
        children += [token, level]
        if draw(st.booleans()):
            count = element(f"{{{DAV}}}nresults")
            count.text = draw(st.sampled_from(["1", "0", "-1", "x"]))
            children.append(element(f"{{{DAV}}}limit", [count]))
    elif kind == "free-busy":
        root = f"{{{CAL}}}free-busy-query"
        children = [element(f"{{{CAL}}}time-range", start=draw(STAMPS), end=draw(STAMPS))]
    else:
        root = draw(st.sampled_from([f"{{{DAV}}}expand-property", "{urn:x}report", "x"]))
    return element(root, children)


@st.composite
def propfind(draw: st.DrawFn) -> ET.Element:
    choice = draw(st.sampled_from(["prop", "allprop", "propname"]))
    child = draw(props()) if choice == "prop" else element(f"{{{DAV}}}{choice}")
    return element(f"{{{DAV}}}propfind", [child])


@st.composite
def encoded(draw: st.DrawFn, tree: st.SearchStrategy[ET.Element]) -> bytes:
    text = ET.tostring(draw(tree), encoding="unicode")
    if draw(st.integers(0, 7)) == 0:
        text = '<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>' + text
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-16", "latin-1"]))
    data = f'<?xml version="1.0" encoding="{encoding}"?>'.encode(encoding) + text.encode(
        encoding, errors="replace" if encoding == "latin-1" else "surrogatepass"
    )
    if draw(st.integers(0, 9)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return data


def check(answer_status: int, body: bytes) -> None:
    assert answer_status < 500, body[:500]
    if answer_status == 207:
        root = ET.fromstring(body)
        assert root.tag == f"{{{DAV}}}multistatus"
        for data in root.iter(f"{{{CAL}}}calendar-data"):
            if data.text:
                Calendar.from_ical(data.text)


FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(
    body=encoded(report()),
    path=st.sampled_from(PATHS),
    login=st.sampled_from(["chris", "chris", "boss", "eve", None]),
    depth=st.sampled_from([None, "0", "1", "infinity"]),
)
def test_report_bodies(
    fuzzed: Server, body: bytes, path: str, login: str | None, depth: str | None
) -> None:
    headers = {"Content-Type": "application/xml", **({"Depth": depth} if depth else {})}
    answer = fuzzed.request("REPORT", path, login=login, body=body, headers=headers)
    event(f"status {answer.status}")
    check(answer.status, answer.body)


@FUZZ
@given(
    body=encoded(propfind()),
    path=st.sampled_from(PATHS),
    login=st.sampled_from(["chris", "boss", None]),
    depth=st.sampled_from(["0", "1"]),
)
def test_propfind_bodies(
    fuzzed: Server, body: bytes, path: str, login: str | None, depth: str
) -> None:
    headers = {"Content-Type": "application/xml", "Depth": depth}
    answer = fuzzed.request("PROPFIND", path, login=login, body=body, headers=headers)
    event(f"status {answer.status}")
    check(answer.status, answer.body)
