"""What a hosted FileMaker file is made of, as far as the Data API shows it.

A file has accounts, tables and layouts. A layout shows some fields of one table and portals onto
related rows; the Data API reads and searches only what a layout shows (code 102 otherwise). A
table may have one auto-enter modification timestamp field, which every write sets to the host's
local time, to the second (several records share a second). Record ids and modIds are FileMaker's
own counters, returned as strings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

FieldResult = Literal["text", "number", "date", "time", "timeStamp"]
Value = str | float | dt.date | dt.time | dt.datetime | None
"""A stored value: ``None`` is an empty field, whatever its type."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    result: FieldResult = "text"
    auto_modified: bool = False
    """An auto-enter modification timestamp (result must be timeStamp)."""


@dataclass(frozen=True, slots=True)
class TableSpec:
    name: str
    fields: tuple[FieldSpec, ...]

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True, slots=True)
class PortalSpec:
    """A portal: rows of ``table`` (a related table occurrence) shown as ``table::Field``."""

    name: str
    table: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LayoutSpec:
    """A layout on ``table``: its own fields, related ``Table::Field`` fields placed directly on
    it (they show the first related row), and portals."""

    name: str
    table: str
    fields: tuple[str, ...]
    portals: tuple[PortalSpec, ...] = ()

    def portal(self, name: str) -> PortalSpec | None:
        return next((p for p in self.portals if p.name == name), None)


@dataclass(frozen=True, slots=True)
class FileSpec:
    """One hosted file: its name (the ``database`` of the URL), accounts, schema and zone.

    ``time_zone`` is the host's zone: auto-enter timestamps are its local wall time.
    """

    name: str
    accounts: tuple[tuple[str, str], ...]
    tables: tuple[TableSpec, ...]
    layouts: tuple[LayoutSpec, ...]
    time_zone: str = "UTC"

    def table(self, name: str) -> TableSpec | None:
        return next((t for t in self.tables if t.name == name), None)


@dataclass(slots=True)
class PortalRow:
    record_id: int
    mod_id: int
    values: dict[str, Value]
    """By field name without the ``table::`` prefix."""


@dataclass(slots=True)
class Record:
    record_id: int
    mod_id: int
    values: dict[str, Value]
    related: dict[str, list[PortalRow]] = field(default_factory=dict)
    """Portal rows by related table occurrence."""
