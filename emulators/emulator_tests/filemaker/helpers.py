"""A deliberately plain Data API client over urllib, so tests see every status and header."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from filemaker_emulator.ipoint_file import DATABASE, PASSWORD, USERNAME


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def code(self) -> str:
        return str(self.body["messages"][0]["code"])

    @property
    def response(self) -> dict[str, Any]:
        result: dict[str, Any] = self.body["response"]
        return result


def call(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw, status, got = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        raw, status, got = exc.read(), exc.code, dict(exc.headers)
    try:
        parsed = json.loads(raw) if raw else None
    except json.JSONDecodeError:
        parsed = raw.decode("utf-8", "replace")
    return Answer(status, got, parsed)


def q(text: str) -> str:
    return urllib.parse.quote(text, safe="")


@dataclass
class DataApi:
    base_url: str
    database: str = DATABASE
    version: str = "vLatest"
    token: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{self.base_url}/fmi/data/{self.version}/databases/{q(self.database)}/{path}"

    def login(self, user: str = USERNAME, password: str = PASSWORD) -> Answer:
        basic = base64.b64encode(f"{user}:{password}".encode()).decode()
        answer = call(
            "POST",
            self.url("sessions"),
            body=b"{}",
            headers={"Authorization": f"Basic {basic}", "Content-Type": "application/json"},
        )
        if answer.code == "0":
            self.token = answer.response["token"]
        return answer

    def request(self, method: str, path: str, payload: Any = None) -> Answer:
        headers = {"Authorization": f"Bearer {self.token}"}
        data = None
        if payload is not None:
            data = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        return call(method, self.url(path), body=data, headers=headers)

    def layout(self, layout: str) -> Answer:
        return self.request("GET", f"layouts/{q(layout)}")

    def records(self, layout: str, **params: Any) -> Answer:
        query = urllib.parse.urlencode(params)
        return self.request("GET", f"layouts/{q(layout)}/records" + (f"?{query}" if query else ""))

    def find(self, layout: str, body: dict[str, Any]) -> Answer:
        return self.request("POST", f"layouts/{q(layout)}/_find", body)

    def create(self, layout: str, field_data: dict[str, Any], **extra: Any) -> Answer:
        return self.request(
            "POST", f"layouts/{q(layout)}/records", {"fieldData": field_data, **extra}
        )

    def edit(self, layout: str, record_id: str, field_data: dict[str, Any], **extra: Any) -> Answer:
        return self.request(
            "PATCH", f"layouts/{q(layout)}/records/{record_id}", {"fieldData": field_data, **extra}
        )
