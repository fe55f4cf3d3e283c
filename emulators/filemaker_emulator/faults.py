"""Fault injection, set through ``/_emulator/faults`` (never reachable through the Data API).

Rule kinds, each for every request or only those whose path contains ``path`` (e.g. ``_find``,
``sessions``), for the next ``count`` matching requests or all of them (``count`` null):

- ``latency``: delay each matching request ``latency_ms`` (summed over rules);
- ``http_error``: answer ``status`` (502, 503...) with the web server's HTML page, as Apache or
  IIS do when the Data API engine is down or overloaded (Claris: "the error code or message
  returned depends on the web server");
- ``fm_error``: answer FileMaker error ``code`` in Claris' envelope (e.g. 802, 8003);
- ``unreachable``: close the connection without an answer.

Expiring all tokens is ``POST /_emulator/sessions/expire`` (sessions.py), not a rule.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

KINDS = ("latency", "http_error", "fm_error", "unreachable")


@dataclass(slots=True)
class FaultRule:
    id: int
    kind: str
    path: str = ""
    count: int | None = None
    latency_ms: int = 0
    status: int = 503
    code: int = 802
    fired: int = 0

    def matches(self, path: str) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        return not self.path or self.path in path

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Faults:
    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self._next = 1

    def add(self, spec: dict[str, Any]) -> FaultRule:
        kind = str(spec.get("kind", ""))
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        count = spec.get("count")
        rule = FaultRule(
            id=self._next,
            kind=kind,
            path=str(spec.get("path") or ""),
            count=int(count) if count is not None else None,
            latency_ms=int(spec.get("latency_ms", 0)),
            status=int(spec.get("status", 503)),
            code=int(spec.get("code", 802)),
        )
        if rule.latency_ms < 0 or not 400 <= rule.status <= 599:
            raise ValueError("latency_ms must be >= 0 and status within 400..599")
        self._next += 1
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def latency_ms(self, path: str) -> int:
        return sum(r.latency_ms for r in self.rules if r.kind == "latency" and r.matches(path))

    def fire(self, path: str) -> FaultRule | None:
        """The first failing rule for this request, counted as fired."""
        for rule in self.rules:
            if rule.kind != "latency" and rule.matches(path):
                if rule.count is not None:
                    rule.count -= 1
                rule.fired += 1
                return rule
        return None
