"""One hosted file's records: reads through a layout, writes with FileMaker's bookkeeping.

Every write bumps the record's modId (portal rows keep their own) and sets the table's auto-enter
modification timestamp to the host's local time, truncated to the second. ``load`` is the bulk
loader for tests and benches: it creates many records in one call, with the same bookkeeping.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from emulator_kit.clock import Clock

from filemaker_emulator.errors import FmError
from filemaker_emulator.model import (
    FieldResult,
    FileSpec,
    LayoutSpec,
    PortalRow,
    PortalSpec,
    Record,
    TableSpec,
    Value,
)
from filemaker_emulator.values import US, parse_value


class Database:
    """A file's state: records per table, counters, and its accounts."""

    def __init__(self, spec: FileSpec, clock: Clock) -> None:
        self.spec = spec
        self.clock = clock
        self.zone = ZoneInfo(spec.time_zone)
        self.accounts = dict(spec.accounts)
        self.layouts = {layout.name: layout for layout in spec.layouts}
        self.records: dict[str, dict[int, Record]] = {t.name: {} for t in spec.tables}
        self._next_id: dict[str, int] = {t.name: 1 for t in spec.tables}
        self.version = 0
        """Bumped by every write; keys the cache of the last found set."""
        self.found_cache: tuple[str, list[Record]] | None = None

    # --- schema -------------------------------------------------------------------------
    def layout(self, name: str) -> LayoutSpec:
        layout = self.layouts.get(name)
        if layout is None:
            raise FmError(105)
        return layout

    def table(self, name: str) -> TableSpec:
        table = self.spec.table(name)
        if table is None:
            raise FmError(106, f"Table is missing: {name}")
        return table

    def field_type(self, layout: LayoutSpec, name: str) -> FieldResult:
        """The type of a field the layout shows (``TO::Field`` for portal fields); else 102."""
        table_name, sep, field_name = name.rpartition("::")
        if sep:
            portal = next((p for p in layout.portals if p.table == table_name), None)
            shown = name in layout.fields or (portal is not None and field_name in portal.fields)
            if not shown or self.spec.table(table_name) is None:
                raise FmError(102)
            spec = self.table(table_name).field(field_name)
        else:
            spec = self.table(layout.table).field(name) if name in layout.fields else None
        if spec is None:
            raise FmError(102)
        return spec.result

    # --- reads --------------------------------------------------------------------------
    @staticmethod
    def read(record: Record, name: str) -> Value:
        """A field of the record; a related field reads its first portal row, as FileMaker does."""
        values = Database.read_all(record, name)
        return values[0] if values else None

    @staticmethod
    def read_all(record: Record, name: str) -> list[Value]:
        """Every value a find looks at: a related field's value in each related row."""
        table_name, sep, field_name = name.rpartition("::")
        if not sep:
            return [record.values.get(name)]
        return [row.values.get(field_name) for row in record.related.get(table_name) or []]

    def get(self, layout: LayoutSpec, record_id: int) -> Record:
        record = self.records[layout.table].get(record_id)
        if record is None:
            raise FmError(101)
        return record

    # --- writes -------------------------------------------------------------------------
    def now_local(self) -> dt.datetime:
        moment = dt.datetime.fromtimestamp(int(self.clock.now()), self.zone)
        return moment.replace(tzinfo=None)

    def _touch(self, table: TableSpec, record: Record) -> None:
        self.version += 1
        record.mod_id += 1
        now = self.now_local()
        for spec in table.fields:
            if spec.auto_modified:
                record.values[spec.name] = now

    def _set_fields(
        self, table: TableSpec, record: Record, data: Mapping[str, Any], fmt: int, api: bool
    ) -> None:
        for name, raw in data.items():
            spec = table.field(name)
            if spec is None:
                raise FmError(102, f"Field is missing: {name}")
            if spec.auto_modified and api:
                raise FmError(201)
            record.values[name] = parse_value(raw, spec.result, fmt, name)

    def _set_rows(
        self, record: Record, portal: PortalSpec, rows: Iterable[Mapping[str, Any]], fmt: int
    ) -> None:
        table = self.table(portal.table)
        existing = record.related.setdefault(portal.table, [])
        for row in rows:
            if not isinstance(row, Mapping):
                raise FmError(1708, "portal rows must be objects")
            target: PortalRow | None = None
            if "recordId" in row:
                target = next(
                    (r for r in existing if str(r.record_id) == str(row["recordId"])), None
                )
                if target is None:
                    raise FmError(101)
                target.mod_id += 1
            else:
                target = PortalRow(self._new_id(portal.table), 0, {})
                existing.append(target)
            for key, raw in row.items():
                if key in ("recordId", "modId"):
                    continue
                prefix, _, field_name = key.rpartition("::")
                spec = table.field(field_name)
                if prefix != portal.table or spec is None:
                    raise FmError(102, f"Field is missing: {key}")
                target.values[field_name] = parse_value(raw, spec.result, fmt, key)

    def _new_id(self, table: str) -> int:
        record_id = self._next_id[table]
        self._next_id[table] = record_id + 1
        return record_id

    def _portal_data(self, layout: LayoutSpec, record: Record, data: Any, fmt: int) -> None:
        if data is None:
            return
        if not isinstance(data, Mapping):
            raise FmError(1708, "portalData must be an object")
        for name, rows in data.items():
            portal = layout.portal(name) or next(
                (p for p in layout.portals if p.table == name), None
            )
            if portal is None or not isinstance(rows, list):
                raise FmError(1708, f"no portal {name!r} on the layout")
            self._set_rows(record, portal, rows, fmt)

    def create(
        self,
        layout: LayoutSpec,
        field_data: Mapping[str, Any],
        portal_data: Any = None,
        fmt: int = US,
        *,
        api: bool = True,
    ) -> Record:
        table = self.table(layout.table)
        record = Record(self._new_id(table.name), -1, {})
        self._set_fields(table, record, field_data, fmt, api)
        self._portal_data(layout, record, portal_data, fmt)
        self._touch(table, record)
        self.records[table.name][record.record_id] = record
        return record

    def edit(
        self,
        layout: LayoutSpec,
        record_id: int,
        field_data: Mapping[str, Any],
        portal_data: Any = None,
        fmt: int = US,
        mod_id: str | None = None,
        delete_related: Any = None,
    ) -> Record:
        table = self.table(layout.table)
        record = self.get(layout, record_id)
        if mod_id is not None and str(mod_id) != str(record.mod_id):
            raise FmError(306)
        self._set_fields(table, record, field_data, fmt, True)
        self._portal_data(layout, record, portal_data, fmt)
        if delete_related is not None:
            for item in delete_related if isinstance(delete_related, list) else [delete_related]:
                table_name, _, row_id = str(item).rpartition(".")
                rows = record.related.get(table_name, [])
                record.related[table_name] = [r for r in rows if str(r.record_id) != row_id]
        self._touch(table, record)
        return record

    def delete(self, layout: LayoutSpec, record_id: int) -> None:
        self.get(layout, record_id)
        del self.records[layout.table][record_id]
        self.version += 1

    def load(self, table_name: str, rows: Iterable[Mapping[str, Any]], fmt: int = US) -> list[int]:
        """Create records directly in ``table_name`` (the bulk loader); returns their ids.

        A row's ``portalData`` key, if any, holds ``{table occurrence: [{field: value}]}``; an
        auto-enter modification field given in a row is kept (to seed old timestamps), else set.
        """
        table = self.table(table_name)
        ids = []
        for row in rows:
            data = dict(row)
            related = data.pop("portalData", None) or {}
            record = Record(self._new_id(table.name), -1, {})
            self._set_fields(table, record, data, fmt, False)
            for to_name, portal_rows in related.items():
                portal = PortalSpec(to_name, to_name, ())
                self._set_rows(record, portal, portal_rows, fmt)
            kept = {
                f.name: record.values[f.name]
                for f in table.fields
                if f.auto_modified and f.name in data
            }
            self._touch(table, record)
            record.values.update(kept)
            self.records[table.name][record.record_id] = record
            ids.append(record.record_id)
        return ids
