"""Claris' answer envelope and the FileMaker error codes the emulator returns.

Every answer is ``{"response": {...}, "messages": [{"code": "0", "message": "OK"}]}``; codes are
strings. Claris' "Error responses" page: FileMaker errors come with an HTTP 500-level status, a
rejected account or token with 401, a wrong Content-Type with 415. Clients must judge an answer by
``messages[0].code``, so the emulator keeps the status real servers use (a find that matches
nothing, code 401, has long come back as HTTP 500).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MESSAGES: dict[int, str] = {
    0: "OK",
    101: "Record is missing",
    102: "Field is missing",
    105: "Layout is missing",
    106: "Table is missing",
    201: "Field cannot be modified",
    212: "Invalid user account and/or password; please try again",
    306: "Record modification ID does not match",
    401: "No records match the request",
    500: "Date value does not meet validation entry options",
    501: "Time value does not meet validation entry options",
    502: "Number value does not meet validation entry options",
    802: "Unable to open file",
    952: "Invalid FileMaker Data API token (*)",
    1630: "URL format is incorrect",
    1704: "Resolved verb is not supported",
    1708: "Parameter value is invalid",
}

#: HTTP status per code where it is not the 500 of "a FileMaker error".
STATUS: dict[int, int] = {0: 200, 212: 401, 952: 401, 1630: 404, 1704: 405}


@dataclass(slots=True)
class FmError(Exception):
    """A FileMaker error answer; ``detail`` replaces the stock message where Claris adds one."""

    code: int
    detail: str = ""
    status: int = 0

    @property
    def http_status(self) -> int:
        return self.status or STATUS.get(self.code, 500)

    @property
    def message(self) -> str:
        return self.detail or MESSAGES.get(self.code, "Unknown error")


def envelope(response: dict[str, Any] | None = None, code: int = 0, message: str = "") -> bytes:
    """The JSON body of an answer."""
    body = {
        "response": response if response is not None else {},
        "messages": [{"code": str(code), "message": message or MESSAGES.get(code, "")}],
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
