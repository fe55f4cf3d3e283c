"""Google's error answers: the JSON envelope of the Calendar API and the OAuth token endpoint.

The envelope is the one on Google's "Handle API errors" page::

    {"error": {"errors": [{"domain", "reason", "message", ["locationType", "location"]}],
               "code": 400, "message": "...", "status": "INVALID_ARGUMENT"}}

Each documented error has a constructor here so handlers cannot drift from the documented
domain/reason/message triples.
"""

from __future__ import annotations

from typing import Any

#: google.rpc canonical codes Google adds as ``status`` to the envelope.
_CANONICAL = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """An error answer of the Calendar API; handlers raise it, the dispatcher renders it."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        domain: str = "global",
        location: str | None = None,
        location_type: str = "parameter",
        headers: dict[str, str] | None = None,
        top_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.top_message = top_message or message
        self.code = code
        self.reason = reason
        self.message = message
        self.domain = domain
        self.location = location
        self.location_type = location_type
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON envelope."""
        item: dict[str, Any] = {
            "domain": self.domain,
            "reason": self.reason,
            "message": self.message,
        }
        if self.location is not None:
            item["locationType"] = self.location_type
            item["location"] = self.location
        error: dict[str, Any] = {"errors": [item], "code": self.code, "message": self.top_message}
        if self.code in _CANONICAL:
            error["status"] = _CANONICAL[self.code]
        return {"error": error}


def bad_request(message: str = "Bad Request", *, location: str | None = None) -> ApiError:
    return ApiError(400, "badRequest", message, location=location)


def invalid(message: str = "Invalid Value", *, location: str | None = None) -> ApiError:
    return ApiError(400, "invalid", message, location=location)


def required(message: str = "Required", *, location: str | None = None) -> ApiError:
    return ApiError(400, "required", message, location=location)


def time_range_empty(location: str | None = None) -> ApiError:
    return ApiError(
        400,
        "timeRangeEmpty",
        "The specified time range is empty.",
        domain="calendar",
        location=location,
    )


def auth_error() -> ApiError:
    # Google's 401 names the header and asks for a fresh token; google-auth refreshes on it.
    return ApiError(
        401,
        "authError",
        "Invalid Credentials",
        location="Authorization",
        location_type="header",
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
    )


def insufficient_scopes() -> ApiError:
    return ApiError(
        403,
        "insufficientPermissions",
        "Insufficient Permission",
        top_message="Request had insufficient authentication scopes.",
    )


def required_access(level: str) -> ApiError:
    return ApiError(
        403,
        "requiredAccessLevel",
        f"You need to have {level} access to this calendar.",
        domain="calendar",
    )


def rate_limited(status: int) -> ApiError:
    return ApiError(status, "rateLimitExceeded", "Rate Limit Exceeded", domain="usageLimits")


def user_rate_limited() -> ApiError:
    return ApiError(403, "userRateLimitExceeded", "User Rate Limit Exceeded", domain="usageLimits")


def quota_exceeded() -> ApiError:
    return ApiError(403, "quotaExceeded", "Calendar usage limits exceeded.", domain="usageLimits")


def not_found() -> ApiError:
    return ApiError(404, "notFound", "Not Found")


def duplicate() -> ApiError:
    return ApiError(409, "duplicate", "The requested identifier already exists.")


def deleted() -> ApiError:
    return ApiError(410, "deleted", "Resource has been deleted")


def full_sync_required() -> ApiError:
    return ApiError(
        410,
        "fullSyncRequired",
        "Sync token is no longer valid, a full sync is required.",
        domain="calendar",
        location="syncToken",
    )


def updated_min_too_long_ago() -> ApiError:
    return ApiError(
        410,
        "updatedMinTooLongAgo",
        "The requested minimum modification time lies too far in the past.",
        domain="calendar",
        location="updatedMin",
    )


def condition_not_met() -> ApiError:
    return ApiError(
        412,
        "conditionNotMet",
        "Precondition Failed",
        location="If-Match",
        location_type="header",
    )


def backend_error(code: int = 500) -> ApiError:
    message = "Backend Error" if code == 500 else "The service is currently unavailable."
    return ApiError(code, "backendError", message)


def envelope_message(body: dict[str, Any]) -> str:
    """The top-level message of an envelope (for logs)."""
    error = body.get("error")
    return str(error.get("message", "")) if isinstance(error, dict) else ""


class OAuthError(Exception):
    """An error answer of the OAuth token/revoke endpoints: ``{"error", "error_description"}``."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}
