"""Per-minute request quotas, as Google's "Usage limits" page describes them.

Two limits: requests per minute per user per project (default 600) and per project (default
10,000). Both are **sliding** 60-second windows (a log of recent requests, not a fixed minute
bucket), which is how Google describes its per-minute quotas. A method may cost more than one unit:
``*.patch`` costs 3 (the patch reference pages say each patch request consumes three quota units).
Each call inside a batch is counted one by one. Rejected calls do not consume quota.
"""

from __future__ import annotations

from collections import deque


class SlidingWindow:
    """At most ``limit`` units within any 60 s span."""

    __slots__ = ("limit", "times")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.times: deque[float] = deque()

    def _trim(self, now: float) -> None:
        while self.times and self.times[0] <= now - 60.0:
            self.times.popleft()

    def fits(self, now: float, cost: int) -> bool:
        self._trim(now)
        return len(self.times) + cost <= self.limit

    def take(self, now: float, cost: int) -> None:
        self.times.extend([now] * cost)

    def used(self, now: float) -> int:
        self._trim(now)
        return len(self.times)


class QuotaBook:
    """The per-user windows and the project window."""

    def __init__(self, per_user: int, per_project: int) -> None:
        self.per_user = per_user
        self.project = SlidingWindow(per_project)
        self.users: dict[str, SlidingWindow] = {}

    def check(self, email: str, now: float, cost: int) -> str | None:
        """``None`` when the call may proceed (and is charged), else ``"user"`` or ``"project"``."""
        window = self.users.get(email)
        if window is None:
            window = self.users[email] = SlidingWindow(self.per_user)
        if not window.fits(now, cost):
            return "user"
        if not self.project.fits(now, cost):
            return "project"
        window.take(now, cost)
        self.project.take(now, cost)
        return None

    def reset(self) -> None:
        self.users.clear()
        self.project.times.clear()
