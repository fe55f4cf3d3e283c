"""Record answers: layout metadata, ranges, single records, finds, creates and edits.

A record reads as ``{"fieldData", "portalData", "recordId", "modId", "portalDataInfo"}`` with the
layout's fields only; portal rows as ``{"recordId", "TO::Field"..., "modId"}``. Every list answer
carries ``dataInfo`` (database, layout, table, totalRecordCount, foundCount, returnedCount). Ranges
and finds take ``_offset``/``offset`` (1-based), ``_limit``/``limit`` (default 100), a sort, the
``portal`` list with ``_offset.NAME``/``_limit.NAME`` (``offset.NAME``/``limit.NAME`` in a find
body; portals default to 50 rows) and ``dateformats``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from filemaker_emulator import find as finder
from filemaker_emulator.database import Database
from filemaker_emulator.errors import FmError
from filemaker_emulator.model import FieldResult, LayoutSpec, PortalSpec, Record
from filemaker_emulator.values import date_format, format_value

DEFAULT_LIMIT = 100
DEFAULT_PORTAL_LIMIT = 50


def record_id(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise FmError(1708, f"recordId must be a positive number, not {text!r}")
    return int(text)


def _positive(raw: Any, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    text = str(raw)
    if isinstance(raw, bool) or not text.isdigit() or int(text) < 1:
        raise FmError(1708, f"{name} must be a positive whole number, not {text!r}")
    return int(text)


def _portals(
    layout: LayoutSpec, names: Any, params: Mapping[str, Any], prefix: str
) -> list[tuple[PortalSpec, int, int]]:
    """The portals to return with their (offset, limit); all of the layout's by default."""
    if names is None:
        chosen = list(layout.portals)
    else:
        if isinstance(names, str):
            try:
                names = json.loads(names)
            except json.JSONDecodeError:
                raise FmError(1708, "portal must be a JSON array of names") from None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise FmError(1708, "portal must be an array of names")
        chosen = []
        for name in names:
            portal = layout.portal(name)
            if portal is None:
                raise FmError(1708, f"no portal {name!r} on the layout")
            chosen.append(portal)
    return [
        (
            p,
            _positive(params.get(f"{prefix}offset.{p.name}"), f"offset.{p.name}", 1),
            _positive(
                params.get(f"{prefix}limit.{p.name}"), f"limit.{p.name}", DEFAULT_PORTAL_LIMIT
            ),
        )
        for p in chosen
    ]


def render(
    db: Database,
    layout: LayoutSpec,
    record: Record,
    portals: list[tuple[PortalSpec, int, int]],
    fmt: int,
) -> dict[str, Any]:
    # A related field placed on the layout itself shows the first related record's value.
    field_data = {n: format_value(db.read(record, n), fmt) for n in layout.fields}
    portal_data: dict[str, list[dict[str, Any]]] = {}
    info = []
    for portal, offset, limit in portals:
        rows = record.related.get(portal.table, [])
        shown = rows[offset - 1 : offset - 1 + limit]
        portal_data[portal.name] = [
            {
                "recordId": str(row.record_id),
                **{
                    f"{portal.table}::{f}": format_value(row.values.get(f), fmt)
                    for f in portal.fields
                },
                "modId": str(row.mod_id),
            }
            for row in shown
        ]
        info.append(
            {
                "portalObjectName": portal.name,
                "database": db.spec.name,
                "table": portal.table,
                "foundCount": len(rows),
                "returnedCount": len(shown),
            }
        )
    answer: dict[str, Any] = {
        "fieldData": field_data,
        "portalData": portal_data,
        "recordId": str(record.record_id),
        "modId": str(record.mod_id),
    }
    if info:
        answer["portalDataInfo"] = info
    return answer


def _data_info(db: Database, layout: LayoutSpec, found: int, returned: int) -> dict[str, Any]:
    return {
        "database": db.spec.name,
        "layout": layout.name,
        "table": layout.table,
        "totalRecordCount": len(db.records[layout.table]),
        "foundCount": found,
        "returnedCount": returned,
    }


def _page(
    db: Database,
    layout: LayoutSpec,
    found: list[Record],
    offset: int,
    limit: int,
    portals: list[tuple[PortalSpec, int, int]],
    fmt: int,
) -> dict[str, Any]:
    page = found[offset - 1 : offset - 1 + limit]
    if not page:
        raise FmError(401)
    return {
        "dataInfo": _data_info(db, layout, len(found), len(page)),
        "data": [render(db, layout, r, portals, fmt) for r in page],
    }


def _field_type(db: Database, layout: LayoutSpec) -> Any:
    def field_type(name: str) -> FieldResult:
        return db.field_type(layout, name)

    return field_type


def get_range(db: Database, layout: LayoutSpec, query: Mapping[str, str]) -> dict[str, Any]:
    fmt = date_format(query.get("dateformats"))
    offset = _positive(query.get("_offset"), "_offset", 1)
    limit = _positive(query.get("_limit"), "_limit", DEFAULT_LIMIT)
    sort_spec = None
    if "_sort" in query:
        try:
            sort_spec = json.loads(query["_sort"])
        except json.JSONDecodeError:
            raise FmError(1708, "_sort must be a JSON array") from None
    portals = _portals(layout, query.get("portal"), query, "_")
    records = sorted(db.records[layout.table].values(), key=lambda r: r.record_id)
    records = finder.sort(records, sort_spec, _field_type(db, layout), db.read)
    return _page(db, layout, records, offset, limit, portals, fmt)


def get_one(db: Database, layout: LayoutSpec, rid: int, query: Mapping[str, str]) -> dict[str, Any]:
    fmt = date_format(query.get("dateformats"))
    record = db.get(layout, rid)
    portals = _portals(layout, query.get("portal"), query, "_")
    return {
        "dataInfo": _data_info(db, layout, 1, 1),
        "data": [render(db, layout, record, portals, fmt)],
    }


def find(db: Database, layout: LayoutSpec, body: Mapping[str, Any]) -> dict[str, Any]:
    fmt = date_format(body.get("dateformats"))
    field_type = _field_type(db, layout)
    requests = finder.compile_query(body.get("query"), field_type, fmt)
    offset = _positive(body.get("offset"), "offset", 1)
    limit = _positive(body.get("limit"), "limit", DEFAULT_LIMIT)
    portals = _portals(layout, body.get("portal"), body, "")
    # Paging through a large found set repeats the same find; FileMaker keeps a found set per
    # session, the emulator keeps the last one until the next write.
    key = json.dumps(
        [db.version, layout.name, body.get("query"), body.get("sort"), fmt], sort_keys=True
    )
    if db.found_cache is not None and db.found_cache[0] == key:
        found = db.found_cache[1]
    else:
        found = finder.run(requests, db.records[layout.table].values(), db.read_all)
        found = finder.sort(found, body.get("sort"), field_type, db.read)
        db.found_cache = (key, found)
    return _page(db, layout, found, offset, limit, portals, fmt)


def _field_data(layout: LayoutSpec, body: Mapping[str, Any], required: bool) -> dict[str, Any]:
    data = body.get("fieldData")
    if data is None and not required:
        return {}
    if not isinstance(data, dict):
        raise FmError(1708, "fieldData must be an object")
    for name in data:
        if name not in layout.fields:
            raise FmError(102, f"Field is missing: {name}")
    return data


def create(db: Database, layout: LayoutSpec, body: Mapping[str, Any]) -> dict[str, Any]:
    fmt = date_format(body.get("dateformats"))
    record = db.create(layout, _field_data(layout, body, True), body.get("portalData"), fmt)
    return {"recordId": str(record.record_id), "modId": str(record.mod_id)}


def edit(db: Database, layout: LayoutSpec, rid: int, body: Mapping[str, Any]) -> dict[str, Any]:
    fmt = date_format(body.get("dateformats"))
    record = db.edit(
        layout,
        rid,
        _field_data(layout, body, False),
        body.get("portalData"),
        fmt,
        mod_id=body.get("modId"),
        delete_related=body.get("deleteRelated"),
    )
    return {"modId": str(record.mod_id)}


def metadata(db: Database, layout: LayoutSpec) -> dict[str, Any]:
    def meta(name: str, result: FieldResult, auto: bool) -> dict[str, Any]:
        return {
            "name": name,
            "type": "normal",
            "displayType": "editText",
            "result": result,
            "global": False,
            "autoEnter": auto,
            "fourDigitYear": False,
            "maxRepeat": 1,
            "maxCharacters": 0,
            "notEmpty": False,
            "numeric": False,
            "timeOfDay": False,
            "repetitionStart": 1,
            "repetitionEnd": 1,
        }

    table = db.table(layout.table)
    fields = []
    for name in layout.fields:
        related, _, field_name = name.rpartition("::")
        spec = (db.table(related) if related else table).field(field_name)
        assert spec is not None
        fields.append(meta(name, spec.result, spec.auto_modified))
    portals: dict[str, list[dict[str, Any]]] = {}
    for portal in layout.portals:
        portal_table = db.table(portal.table)
        portals[portal.name] = []
        for name in portal.fields:
            spec = portal_table.field(name)
            assert spec is not None
            portals[portal.name].append(meta(f"{portal.table}::{name}", spec.result, False))
    return {"fieldMetaData": fields, "portalMetaData": portals, "valueLists": []}
