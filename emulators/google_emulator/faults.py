"""Fault injection rules set through the control API (``/_emulator/faults``).

A rule applies to every API call (batch parts included) of one account, or of all accounts when
``user`` is null, optionally only to some methods (``methods``: method ids such as
``calendar.events.insert``, a prefix ending in ``.``, or the words ``read``/``write``). Kinds:

- ``error``: the next ``count`` matching calls (all, when ``count`` is null) answer ``status``
  (500/503: ``backendError``; 429 or 403 with ``reason`` ``rateLimitExceeded``,
  ``userRateLimitExceeded`` or ``quotaExceeded``) without touching state;
- ``error_ratio``: each matching call fails with ``status`` with probability ``ratio`` (seeded);
- ``latency``: each matching call is delayed ``latency_ms``;
- the OAuth token endpoint has the method id ``oauth2.token`` and is only affected by ``error``
  and ``error_ratio`` rules that name it explicitly (answers ``{"error": "internal_failure"}``);
- ``lose_response``: the call is applied, then the answer is lost: ``mode`` ``"503"`` answers
  503 ``backendError``, ``mode`` ``"drop"`` closes the connection without an answer.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

from google_emulator import errors

KINDS = ("error", "error_ratio", "latency", "lose_response")


@dataclass(slots=True)
class FaultRule:
    id: int
    kind: str
    user: str | None = None
    methods: tuple[str, ...] = ()
    status: int = 503
    reason: str | None = None
    count: int | None = None
    ratio: float = 0.0
    latency_ms: int = 0
    mode: str = "503"
    fired: int = 0

    def matches(self, email: str | None, method_id: str, write: bool) -> bool:
        if self.user is not None and self.user != email:
            return False
        if self.count is not None and self.count <= 0:
            return False
        if not self.methods:
            return True
        for item in self.methods:
            if (item == "write" and write) or (item == "read" and not write):
                return True
            if item == method_id or (item.endswith(".") and method_id.startswith(item)):
                return True
        return False

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["methods"] = list(self.methods)
        return data


def error_for(status: int, reason: str | None) -> errors.ApiError:
    """The documented answer for an injected status."""
    if status == 429:
        return errors.rate_limited(429)
    if status == 403:
        if reason == "quotaExceeded":
            return errors.quota_exceeded()
        if reason == "userRateLimitExceeded":
            return errors.user_rate_limited()
        return errors.rate_limited(403)
    if status >= 500:
        return errors.backend_error(status)
    return errors.ApiError(status, reason or "badRequest", "Injected fault")


class Faults:
    def __init__(self, seed: int) -> None:
        self.rules: list[FaultRule] = []
        self.rng = random.Random(seed)
        self._next = 1

    def add(self, spec: dict[str, Any]) -> FaultRule:
        kind = str(spec.get("kind", ""))
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        methods = spec.get("methods") or ()
        if isinstance(methods, str):
            methods = (methods,)
        count = spec.get("count")
        rule = FaultRule(
            id=self._next,
            kind=kind,
            user=(str(spec["user"]).lower() if spec.get("user") else None),
            methods=tuple(str(m) for m in methods),
            status=int(spec.get("status", 503)),
            reason=(str(spec["reason"]) if spec.get("reason") else None),
            count=(int(count) if count is not None else None),
            ratio=float(spec.get("ratio", 0.0)),
            latency_ms=int(spec.get("latency_ms", 0)),
            mode=str(spec.get("mode", "503")),
        )
        if rule.mode not in ("503", "drop"):
            raise ValueError("mode must be '503' or 'drop'")
        if not 0.0 <= rule.ratio <= 1.0:
            raise ValueError("ratio must be within 0..1")
        self._next += 1
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def latency_ms(self, email: str | None, method_id: str, write: bool) -> int:
        return sum(
            r.latency_ms
            for r in self.rules
            if r.kind == "latency" and r.matches(email, method_id, write)
        )

    def error(
        self, email: str | None, method_id: str, write: bool, *, explicit: bool = False
    ) -> errors.ApiError | None:
        """The injected error for this call, if any; ``explicit``: only rules naming the method."""
        for rule in self.rules:
            if not rule.matches(email, method_id, write):
                continue
            if explicit and method_id not in rule.methods:
                continue
            if rule.kind == "error":
                if rule.count is not None:
                    rule.count -= 1
                rule.fired += 1
                return error_for(rule.status, rule.reason)
            if rule.kind == "error_ratio" and self.rng.random() < rule.ratio:
                rule.fired += 1
                return error_for(rule.status, rule.reason)
        return None

    def lose(self, email: str | None, method_id: str, write: bool) -> str | None:
        """``"503"`` or ``"drop"`` when this call's answer is to be lost."""
        for rule in self.rules:
            if rule.kind == "lose_response" and rule.matches(email, method_id, write):
                if rule.count is not None:
                    rule.count -= 1
                rule.fired += 1
                return rule.mode
        return None
