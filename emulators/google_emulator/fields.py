"""The ``fields`` partial-response selector (Google's "Partial response" syntax).

``a,b/c,d(e,f)``: comma-separated fields, ``/`` selects a sub-field, parentheses select several
sub-fields; a selection on an array applies to each element. ``*`` keeps everything at its level.
Honouring it matters for a mirror: a client that asks for ``items(id,etag)`` must not come to rely
on fields it did not ask for.
"""

from __future__ import annotations

from typing import Any

Selection = dict[str, "Selection | None"]


class FieldsError(ValueError):
    pass


def parse(text: str) -> Selection:
    pos, selection = _parse_list(text, 0)
    if pos != len(text):
        raise FieldsError(text)
    return selection


def _parse_list(text: str, pos: int) -> tuple[int, Selection]:
    selection: Selection = {}
    while True:
        pos = _parse_item(text, pos, selection)
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        return pos, selection


def _parse_item(text: str, pos: int, into: Selection) -> int:
    start = pos
    while pos < len(text) and text[pos] not in ",/()":
        pos += 1
    name = text[start:pos].strip()
    if not name:
        raise FieldsError(text)
    sub: Selection | None = None
    if pos < len(text) and text[pos] == "/":
        sub = {}
        pos = _parse_item(text, pos + 1, sub)
    elif pos < len(text) and text[pos] == "(":
        pos, sub = _parse_list(text, pos + 1)
        if pos >= len(text) or text[pos] != ")":
            raise FieldsError(text)
        pos += 1
    into[name] = _merge(into.get(name, {}), sub) if name in into else sub
    return pos


def _merge(old: Selection | None, new: Selection | None) -> Selection | None:
    if old is None or new is None:
        return None
    merged = dict(old)
    for key, value in new.items():
        merged[key] = _merge(merged[key], value) if key in merged else value
    return merged


def select(value: Any, selection: Selection | None) -> Any:
    if selection is None or "*" in selection:
        return value
    if isinstance(value, list):
        return [select(item, selection) for item in value]
    if isinstance(value, dict):
        return {k: select(value[k], sub) for k, sub in selection.items() if k in value}
    return value


def apply_fields(body: Any, text: str) -> Any:
    return select(body, parse(text))
