"""sync-collection (RFC 6578) answered from the change log: initial, incremental after ingest,
update and delete, attendee removal, unknown tokens; and the collection's etag/ctag."""

from __future__ import annotations

import re

from caldav import DAVClient

from tests.caldav.conftest import PASSWORD, Server, record, sync_report


def sync(server: Server, token: str = "", path: str = "/dana/ipoint/", login: str = "dana"):
    answer = server.request(
        "REPORT", path, login=login, body=sync_report(token), headers={"Depth": "1"}
    )
    assert answer.status == 207, answer.body
    body = answer.body.decode()
    new_token = re.search(r"<sync-token>([^<]+)</sync-token>", body)
    assert new_token is not None
    found: dict[str, int] = {}
    for response in re.findall(r"<response>(.*?)</response>", body, re.S):
        href = re.search(r"<href>[^<]*/([^/<]+)\.ics</href>", response)
        status = re.search(r"<status>HTTP/1\.1 (\d+)", response)
        assert href and status
        found[href.group(1)] = int(status.group(1))
    return new_token.group(1), found


def test_initial_then_incremental_changes(server: Server) -> None:
    server.apply(record("s1", user="dana"), record("s2", user="dana"))
    token, found = sync(server)
    assert found == {"s1": 200, "s2": 200}
    assert sync(server, token) == (token, {})

    server.apply(record("s3", user="dana"))  # ingest
    token2, found = sync(server, token)
    assert found == {"s3": 200} and token2 != token

    server.apply(record("s1", user="dana", title="Moved"))  # update
    token3, found = sync(server, token2)
    assert found == {"s1": 200}
    item = server.request("GET", "/dana/ipoint/s1.ics", login="dana")
    assert b"SUMMARY:Moved" in item.body and b"SEQUENCE:1" in item.body

    server.apply(deletes=("s2",))  # delete: reported as 404 (RFC 6578 3.5.2)
    token4, found = sync(server, token3)
    assert found == {"s2": 404}
    assert server.request("GET", "/dana/ipoint/s2.ics", login="dana").status == 404

    # A full resync lists only live events.
    _, found = sync(server)
    assert found == {"s1": 200, "s3": 200}
    assert sync(server, token4) == (token4, {})


def test_attendee_removed_disappears_from_that_calendar(server: Server) -> None:
    server.apply(record("s-team", user="chris", attendees=["dana"]))
    token, found = sync(server)
    assert found.get("s-team") == 200
    server.apply(record("s-team", user="chris"))
    _, found = sync(server, token)
    assert found == {"s-team": 404}


def test_unknown_or_foreign_token_gets_valid_sync_token_error(server: Server) -> None:
    token, _ = sync(server)
    bad = [
        "http://radicale.org/ns/sync/0123456789abcdef",
        re.sub(r"/[0-9a-f]+-", "/00000000000000000000000000000000-", token),
        re.sub(r"-(\d+)$", lambda m: f"-{int(m.group(1)) + 1000}", token),
    ]
    for value in bad:
        answer = server.request(
            "REPORT", "/dana/ipoint/", login="dana", body=sync_report(value), headers={"Depth": "1"}
        )
        assert answer.status == 403, value
        assert b"valid-sync-token" in answer.body


def test_ctag_and_etag_follow_changes(server: Server) -> None:
    before = server.request("GET", "/dana/ipoint/", login="dana").headers["ETag"]
    server.apply(record("s-ctag", user="dana"))
    after = server.request("GET", "/dana/ipoint/", login="dana").headers["ETag"]
    assert before != after
    # A change on someone else's calendar leaves this one's tag alone.
    server.apply(record("s-other", user="chris"))
    assert server.request("GET", "/dana/ipoint/", login="dana").headers["ETag"] == after


def test_client_library_sync(server: Server) -> None:
    server.apply(record("s-lib-1", user="dana"))
    with DAVClient(url=server.url + "/", username="dana", password=PASSWORD) as dav:
        calendar = dav.principal().calendars()[0]
        objects = calendar.objects_by_sync_token(load_objects=True)
        uids = {str(o.icalendar_component["UID"]) for o in objects}
        assert "ipoint-s-lib-1" in uids
        server.apply(record("s-lib-2", user="dana"))
        delta = calendar.objects_by_sync_token(sync_token=objects.sync_token, load_objects=True)
        assert {str(o.icalendar_component["UID"]) for o in delta} == {"ipoint-s-lib-2"}
