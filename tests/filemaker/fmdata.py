"""A FileMaker user at work, through the Data API over real HTTP: finds a record by its key,
edits it (the server stamps the modification time), deletes it. The bridge's own client is not
used here, so a fault in it cannot hide a fault in the test."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Self

from filemaker_emulator.ipoint_file import DATABASE

ADMIN = ("Admin", "admin-password")


def _q(text: str) -> str:
    return urllib.parse.quote(text, safe="")


class DataSession:
    def __init__(self, base_url: str, database: str = DATABASE) -> None:
        self.root = f"{base_url}/fmi/data/vLatest/databases/{_q(database)}"
        self.token = ""

    def _call(self, method: str, path: str, body: Any = None, basic: bool = False) -> Any:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if basic:
            raw = base64.b64encode(":".join(ADMIN).encode()).decode()
            headers["Authorization"] = f"Basic {raw}"
        elif self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.root + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            answer = json.loads(exc.read())
        code = answer["messages"][0]["code"]
        if code != "0":
            raise AssertionError(f"{method} {path}: FileMaker code {code}")
        return answer["response"]

    def __enter__(self) -> Self:
        self.token = self._call("POST", "/sessions", {}, basic=True)["token"]
        return self

    def __exit__(self, *exc: object) -> None:
        self._call("DELETE", f"/sessions/{self.token}")

    def record_id(self, layout: str, key_field: str, key: str) -> str:
        found = self._call(
            "POST", f"/layouts/{_q(layout)}/_find", {"query": [{key_field: f"=={key}"}]}
        )
        return str(found["data"][0]["recordId"])

    def edit_by_key(self, layout: str, key_field: str, key: str, fields: dict[str, Any]) -> None:
        self.patch(self.record_id(layout, key_field, key), fields, layout)

    def patch(self, rid: str, fields: dict[str, Any], layout: str = "Bridge Work Orders") -> None:
        self._call("PATCH", f"/layouts/{_q(layout)}/records/{rid}", {"fieldData": fields})

    def delete_by_key(self, layout: str, key_field: str, key: str) -> None:
        rid = self.record_id(layout, key_field, key)
        self._call("DELETE", f"/layouts/{_q(layout)}/records/{rid}")
