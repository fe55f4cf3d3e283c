"""The bridge's exception tree: every error a caller can act on, with the fields that locate it.

Layers translate foreign exceptions (sqlite3, aiohttp, googleapiclient) into these with
``raise ... from exc``; the CLI and the web server turn them into exit codes and HTTP answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class BridgeError(Exception):
    """Base of every error the bridge raises on purpose."""


class ConfigError(BridgeError):
    """A configuration file is wrong; names the file, section, option and value."""

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        section: str | None = None,
        option: str | None = None,
        value: str | None = None,
    ) -> None:
        self.reason = reason
        self.file = file
        self.section = section
        self.option = option
        self.value = value
        where = ", ".join(
            part
            for part in (
                file or "",
                f"[{section}]" if section else "",
                f"option {option!r}" if option else "",
                f"value {value!r}" if value is not None else "",
            )
            if part
        )
        super().__init__(f"{where}: {reason}" if where else reason)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one input record."""

    record: str | None
    field: str | None
    reason: str
    line: int | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"id": self.record, "field": self.field, "reason": self.reason}
        if self.line is not None:
            out["line"] = self.line
        return out

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.record is not None:
            where.append(f"record {self.record!r}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


class ValidationError(BridgeError):
    """Input was rejected; ``problems`` lists every fault found, nothing was changed."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        first = str(self.problems[0]) if self.problems else "invalid input"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(first + more)


class StoreError(BridgeError):
    """The event store failed (database unreachable, corrupt, locked too long)."""


class SafetyValveError(BridgeError):
    """A replace-import would delete more than the configured share; nothing was changed."""

    def __init__(self, would_delete: int, total: int, max_share: float) -> None:
        self.would_delete = would_delete
        self.total = total
        self.max_share = max_share
        super().__init__(
            f"refusing to delete {would_delete} of {total} stored events "
            f"(more than {max_share:.0%}); check the file or pass --force"
        )


class UnknownSyncToken(BridgeError):
    """A sync position the store cannot answer incrementally (too old, or another database)."""
