"""Inspection counters: API calls per account, method and HTTP status, plus a bounded call log.

Benches read them to count API calls per mirrored event and the achieved request rate; tests read
them to assert that no invitation e-mail would have been sent.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

ANONYMOUS = "_unauthenticated"


@dataclass(slots=True)
class UserCounts:
    calls: int = 0
    by_method: dict[str, dict[str, int]] = field(default_factory=dict)
    first_at: float | None = None
    last_at: float | None = None


class Counters:
    def __init__(self, log_size: int) -> None:
        self.users: dict[str, UserCounts] = {}
        self.batches = 0
        self.batch_parts = 0
        self.log: deque[dict[str, Any]] = deque(maxlen=log_size)

    def record(
        self,
        email: str | None,
        method_id: str,
        status: int,
        now: float,
        *,
        in_batch: bool,
        target: str | None = None,
    ) -> None:
        key = email or ANONYMOUS
        counts = self.users.get(key)
        if counts is None:
            counts = self.users[key] = UserCounts()
        counts.calls += 1
        per_status = counts.by_method.setdefault(method_id, {})
        per_status[str(status)] = per_status.get(str(status), 0) + 1
        counts.first_at = now if counts.first_at is None else counts.first_at
        counts.last_at = now
        if in_batch:
            self.batch_parts += 1
        self.log.append(
            {
                "t": now,
                "user": key,
                "method": method_id,
                "status": status,
                "batch": in_batch,
                "target": target,
            }
        )

    def reset(self) -> None:
        self.users.clear()
        self.batches = 0
        self.batch_parts = 0
        self.log.clear()

    def as_json(self, invitations: dict[str, int], sharing: dict[str, int]) -> dict[str, Any]:
        users: dict[str, Any] = {}
        for email in sorted(set(self.users) | set(invitations) | set(sharing)):
            counts = self.users.get(email, UserCounts())
            users[email] = {
                "calls": counts.calls,
                "by_method": counts.by_method,
                "first_at": counts.first_at,
                "last_at": counts.last_at,
                "invitations_sent": invitations.get(email, 0),
                "sharing_notifications_sent": sharing.get(email, 0),
            }
        total = sum(c.calls for c in self.users.values())
        return {
            "users": users,
            "total_calls": total,
            "batches": self.batches,
            "batch_parts": self.batch_parts,
        }
