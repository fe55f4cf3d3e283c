"""Discovery from the server root: well-known URL, principal, calendar home, the iPoint calendar
and its properties; supervisors find granted calendars in their own home; strangers find none."""

from __future__ import annotations

import re
from typing import Any

from caldav import DAVClient
from icalendar import Calendar

from tests.caldav.conftest import PASSWORD, SERVICE, SERVICE_PASSWORD, Server, record

PROPS = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" '
    'xmlns:ICAL="http://apple.com/ns/ical/" xmlns:CS="http://calendarserver.org/ns/">'
    "<D:prop><D:displayname/><D:resourcetype/><ICAL:calendar-color/><C:calendar-timezone/>"
    "<C:supported-calendar-component-set/><D:sync-token/><CS:getctag/>"
    "<D:current-user-principal/><C:calendar-home-set/></D:prop></D:propfind>"
)


def client(server: Server, login: str, password: str = PASSWORD) -> DAVClient:
    return DAVClient(url=server.url + "/", username=login, password=password)


def names(server: Server, login: str, password: str = PASSWORD) -> dict[str, str]:
    with client(server, login, password) as dav:
        calendars: list[Any] = dav.principal().calendars()
        return {c.url.path: c.get_display_name() for c in calendars}


def test_well_known_redirects_to_root(server: Server) -> None:
    answer = server.request("PROPFIND", "/.well-known/caldav", headers={"Depth": "0"})
    assert answer.status in (301, 207)  # urllib follows the 301 to "/"


def test_principal_and_home_from_root(server: Server) -> None:
    server.apply(record("disc-1"))
    answer = server.request("PROPFIND", "/", headers={"Depth": "0"}, body=PROPS)
    body = answer.body.decode()
    assert answer.status == 207
    assert "<current-user-principal><href>/chris/</href>" in body
    home = server.request("PROPFIND", "/chris/", headers={"Depth": "0"}, body=PROPS)
    assert "<C:calendar-home-set><href>/chris/</href>" in home.body.decode()


def test_client_library_finds_ipoint_calendar(server: Server) -> None:
    server.apply(record("disc-2"))
    assert names(server, "chris") == {"/chris/ipoint/": "iPoint – Chris Miller"}


def test_calendar_properties(server: Server) -> None:
    server.apply(record("disc-3"))
    answer = server.request("PROPFIND", "/chris/ipoint/", headers={"Depth": "0"}, body=PROPS)
    body = answer.body.decode()
    assert answer.status == 207
    assert "<displayname>iPoint – Chris Miller</displayname>" in body
    assert "<ICAL:calendar-color>#1E88E5</ICAL:calendar-color>" in body
    assert '<C:comp name="VEVENT" />' in body
    assert "<C:calendar />" in body
    match = re.search(r"<C:calendar-timezone>(.*?)</C:calendar-timezone>", body, re.S)
    assert match is not None
    text = match.group(1).replace("&#13;", "\r")
    cal = Calendar.from_ical(text)
    zones = [c for c in cal.walk("VTIMEZONE")]
    assert [str(z["TZID"]) for z in zones] == ["America/Chicago"]
    assert re.search(r"<sync-token>http://ipoint\.invalid/ns/sync/[0-9a-f]+-\d+</sync-token>", body)


def test_supervisor_finds_granted_calendar_in_own_home(server: Server) -> None:
    server.apply(record("disc-4"))
    found = names(server, "boss")
    assert found == {"/boss/ipoint-chris/": "iPoint – Chris Miller"}
    answer = server.request("GET", "/boss/ipoint-chris/", login="boss")
    assert answer.status == 200 and b"UID:ipoint-disc-4" in answer.body


def test_stranger_discovers_nothing_of_others(server: Server) -> None:
    server.apply(record("disc-5"))
    assert names(server, "eve") == {}
    for path in ("/chris/", "/chris/ipoint/", "/boss/ipoint-chris/"):
        answer = server.request("PROPFIND", path, login="eve", headers={"Depth": "1"})
        assert answer.status == 403, path
    # An ungranted "ipoint-<login>" in one's own home does not exist.
    answer = server.request("PROPFIND", "/eve/ipoint-chris/", login="eve", headers={"Depth": "0"})
    assert answer.status in (403, 404)
    root = server.request("PROPFIND", "/", login="eve", headers={"Depth": "1"})
    assert b"/chris/" not in root.body


def test_service_login_lists_every_home_and_reads_every_calendar(server: Server) -> None:
    server.apply(record("disc-6"), record("disc-7", user="dana"))
    root = server.request("PROPFIND", "/", login=SERVICE, headers={"Depth": "1"})
    assert root.status == 207
    for login in ("chris", "dana"):
        assert f"<href>/{login}/</href>".encode() in root.body
        home = server.request("PROPFIND", f"/{login}/", login=SERVICE, headers={"Depth": "1"})
        assert f"<href>/{login}/ipoint/</href>".encode() in home.body
        got = server.request("GET", f"/{login}/ipoint/", login=SERVICE)
        assert got.status == 200
    assert names(server, SERVICE, SERVICE_PASSWORD) == {}
