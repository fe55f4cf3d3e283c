"""The emulator driven by google-api-python-client itself, and Google's batch format."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from google_emulator.settings import EmulatorSettings
from google_emulator.testing import EmulatorThread
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from emulator_tests.google.helpers import Api, http, timed


def _service(emu: EmulatorThread, email: str = "demo@example.com") -> Any:
    return build(
        "calendar",
        "v3",
        credentials=emu.credentials(email),
        client_options={"api_endpoint": emu.api_endpoint},
        static_discovery=True,
    )


def test_client_round_trip_and_http_errors(emu: EmulatorThread) -> None:
    service = _service(emu)
    created = (
        service.calendars()
        .insert(body={"summary": "iP Chris", "timeZone": "Europe/Berlin"})
        .execute()
    )
    cal_id = created["id"]
    assert cal_id.endswith("@group.calendar.google.com")
    event = service.events().insert(calendarId=cal_id, body=timed("cli0000001")).execute()
    assert event["id"] == "cli0000001"
    with pytest.raises(HttpError) as caught:
        service.events().insert(calendarId=cal_id, body=timed("cli0000001")).execute()
    assert caught.value.resp.status == 409
    assert caught.value.error_details[0]["reason"] == "duplicate"
    listed = service.calendarList().list().execute()["items"]
    assert {c["id"] for c in listed} == {"demo@example.com", cal_id}
    primary = service.calendars().get(calendarId="primary").execute()
    assert primary["id"] == "demo@example.com"


def test_expired_access_token_is_refreshed_by_the_client(emu: EmulatorThread) -> None:
    service = _service(emu)
    service.events().list(calendarId="primary").execute()
    assert emu.control("POST", "oauth/expire_access_tokens", {})["expired"] >= 1
    service.events().list(calendarId="primary").execute()
    by_method = emu.control("GET", "counters")["users"]["demo@example.com"]["by_method"]
    assert by_method["calendar.events.list"] == {"200": 2}
    assert emu.control("GET", "counters")["users"]["_unauthenticated"]["by_method"] == {
        "calendar.events.list": {"401": 1}
    }


def test_batch_with_client_per_part_statuses(emu: EmulatorThread) -> None:
    service = _service(emu)
    results: dict[str, tuple[Any, Any]] = {}

    def collect(request_id: str, response: Any, exception: HttpError | None) -> None:
        results[request_id] = (response, exception)

    batch = BatchHttpRequest(callback=collect, batch_uri=emu.batch_uri)
    batch.add(
        service.events().insert(calendarId="primary", body=timed("bat0000001")), request_id="a"
    )
    batch.add(
        service.events().insert(calendarId="primary", body=timed("bat0000001")), request_id="b"
    )
    batch.add(service.events().get(calendarId="primary", eventId="nothere01"), request_id="c")
    batch.add(service.events().delete(calendarId="primary", eventId="bat0000001"), request_id="d")
    batch.execute()
    assert results["a"][0]["id"] == "bat0000001"
    assert results["b"][1] is not None and results["b"][1].resp.status == 409
    assert results["c"][1] is not None and results["c"][1].resp.status == 404
    assert results["d"] == ("", None)
    counters = emu.control("GET", "counters")
    assert counters["batches"] == 1
    assert counters["batch_parts"] == 4
    calls = counters["users"]["demo@example.com"]["by_method"]
    assert calls["calendar.events.insert"] == {"200": 1, "409": 1}


def _multipart(parts: list[tuple[str, str]], boundary: str) -> bytes:
    chunks = []
    for content_id, request in parts:
        chunks.append(
            f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <{content_id}>\r\n\r\n"
            f"{request}\r\n"
        )
    return ("".join(chunks) + f"--{boundary}--\r\n").encode()


def test_raw_batch_uses_outer_authorization_and_answers_response_ids(api: Api) -> None:
    body = '{"id": "rqa0000001", "start": {"date": "2030-01-01"}, "end": {"date": "2030-01-02"}}'
    parts = [
        (
            "item1",
            "POST /calendar/v3/calendars/primary/events HTTP/1.1\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}",
        ),
        ("item2", "GET /calendar/v3/calendars/primary/events/rqa0000001 HTTP/1.1\r\n\r\n"),
        (
            "item3",
            "GET /calendar/v3/calendars/primary/events HTTP/1.1\r\n"
            "Authorization: Bearer not-a-token\r\n\r\n",
        ),
    ]
    boundary = "b_" + uuid.uuid4().hex
    reply = http(
        "POST",
        api.emu.batch_uri,
        raw=_multipart(parts, boundary),
        headers={
            "Content-Type": f"multipart/mixed; boundary={boundary}",
            "Authorization": f"Bearer {api.token}",
        },
    )
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("multipart/mixed; boundary=")
    text = reply.body if isinstance(reply.body, str) else str(reply.body)
    assert text.index("Content-ID: <response-item1>") < text.index("Content-ID: <response-item2>")
    assert "HTTP/1.1 200 OK" in text
    assert "HTTP/1.1 401 Unauthorized" in text
    assert '"id": "rqa0000001"' in text


def test_batch_over_the_limit_is_refused(emu: EmulatorThread) -> None:
    settings = EmulatorSettings(batch_max_parts=3)
    with EmulatorThread(settings) as small:
        api = Api(small, "demo@example.com")
        get = "GET /calendar/v3/calendars/primary/events HTTP/1.1\r\n\r\n"
        boundary = "xyz"
        reply = http(
            "POST",
            small.base_url + "/batch/calendar/v3",
            raw=_multipart([(str(n), get) for n in range(4)], boundary),
            headers={
                "Content-Type": f"multipart/mixed; boundary={boundary}",
                "Authorization": f"Bearer {api.token}",
            },
        )
        assert reply.status == 400
        ok = http(
            "POST",
            small.base_url + "/batch/calendar/v3",
            raw=_multipart([(str(n), get) for n in range(3)], boundary),
            headers={
                "Content-Type": f"multipart/mixed; boundary={boundary}",
                "Authorization": f"Bearer {api.token}",
            },
        )
        assert ok.status == 200


def test_batch_parts_count_against_quota_one_by_one(emu: EmulatorThread) -> None:
    with EmulatorThread(EmulatorSettings(user_rate_limit_per_min=3)) as small:
        service = _service(small)
        statuses: list[int] = []

        def collect(request_id: str, response: Any, exception: HttpError | None) -> None:
            statuses.append(exception.resp.status if exception else 200)

        batch = BatchHttpRequest(callback=collect, batch_uri=small.batch_uri)
        for _ in range(5):
            batch.add(service.events().list(calendarId="primary"))
        batch.execute()
        assert statuses == [200, 200, 200, 403, 403]


def test_client_retry_logic_reads_the_error_envelope(emu: EmulatorThread) -> None:
    service = _service(emu)
    service._http.http.timeout = 10
    emu.control("POST", "faults", {"kind": "error", "status": 503, "count": 2})
    request = service.events().list(calendarId="primary")
    request._sleep = lambda seconds: None
    assert request.execute(num_retries=3)["kind"] == "calendar#events"
    emu.control("POST", "faults", {"kind": "error", "status": 403, "count": 1})
    request = service.events().list(calendarId="primary")
    request._sleep = lambda seconds: None
    assert request.execute(num_retries=2)["kind"] == "calendar#events"
    emu.control("POST", "accounts/demo@example.com/quota_exceeded", {"on": True})
    insert = service.events().insert(calendarId="primary", body=timed())
    insert._sleep = lambda seconds: None
    with pytest.raises(HttpError) as caught:
        insert.execute(num_retries=3)
    assert caught.value.resp.status == 403
    assert caught.value.error_details[0]["reason"] == "quotaExceeded"
    calls = emu.control("GET", "counters")["users"]["demo@example.com"]["by_method"]
    # The client does not retry quotaExceeded (one call), but did retry 503 and rateLimitExceeded.
    assert calls["calendar.events.insert"] == {"403": 1}
    assert calls["calendar.events.list"] == {"503": 2, "200": 2, "403": 1}


def test_mirror_style_full_then_incremental_sync_with_client(emu: EmulatorThread) -> None:
    service = _service(emu)
    for n in range(5):
        service.events().insert(calendarId="primary", body=timed(f"mir{n:07d}")).execute()

    def full_sync() -> tuple[list[str], str]:
        ids: list[str] = []
        token = None
        for _ in range(50):
            page = (
                service.events().list(calendarId="primary", maxResults=2, pageToken=token).execute()
            )
            ids += [e["id"] for e in page["items"]]
            token = page.get("nextPageToken")
            if not token:
                return ids, page["nextSyncToken"]
        raise AssertionError("no last page")

    ids, sync = full_sync()
    assert ids == [f"mir{n:07d}" for n in range(5)]
    service.events().delete(calendarId="primary", eventId="mir0000003").execute()
    changes = service.events().list(calendarId="primary", syncToken=sync).execute()
    assert [(e["id"], e["status"]) for e in changes["items"]] == [("mir0000003", "cancelled")]
    emu.control("POST", "calendars/demo@example.com/invalidate_sync_tokens")
    with pytest.raises(HttpError) as caught:
        service.events().list(calendarId="primary", syncToken=changes["nextSyncToken"]).execute()
    assert caught.value.resp.status == 410
    ids, _ = full_sync()
    assert "mir0000003" not in ids
