"""Raw HTTP helpers for the emulator tests (no Google client in between)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from google_emulator.testing import EmulatorThread


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def reason(self) -> str:
        return str(self.body["error"]["errors"][0]["reason"])


def http(
    method: str,
    url: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> Reply:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    all_headers = {"Content-Type": "application/json"} if body is not None else {}
    all_headers.update(headers or {})
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = response.read()
            status, got = response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        payload, status, got = exc.read(), exc.code, dict(exc.headers)
    try:
        parsed: Any = json.loads(payload) if payload else None
    except ValueError:
        parsed = payload.decode("utf-8", "replace")
    return Reply(status, parsed, got)


class Api:
    """Calls ``/calendar/v3`` as one account with a bearer token from the emulator."""

    def __init__(self, emu: EmulatorThread, email: str, scopes: list[str] | None = None) -> None:
        self.emu = emu
        self.email = email
        info = emu.authorized_user_info(email, scopes)
        self.token = info["access_token"]
        self.info = info

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, Any] | list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        url = f"{self.emu.base_url}/calendar/v3/{path}"
        if query:
            url += "?" + urlencode(query, doseq=True)
        all_headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        return http(method, url, body=body, headers=all_headers)

    def events(self, calendar: str = "primary") -> str:
        return f"calendars/{quote(calendar, safe='')}/events"

    def insert(self, body: dict[str, Any], calendar: str = "primary", **query: Any) -> Reply:
        return self.call("POST", self.events(calendar), body, query or None)


def timed(
    event_id: str | None = None,
    start: str = "2030-01-07T09:00:00Z",
    end: str = "2030-01-07T10:00:00Z",
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "summary": "Job",
        "start": {"dateTime": start},
        "end": {"dateTime": end},
    }
    if event_id is not None:
        body["id"] = event_id
    body.update(extra)
    return body
