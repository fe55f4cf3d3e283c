"""Reading untrusted JSON (push bodies, import files) with bounds the standard parser lacks.

``json`` accepts ``NaN`` and ``Infinity`` (not JSON, RFC 8259 section 6), integers of any
length (Python refuses to turn more than 4300 digits into text later, mid-request) and nesting
until the interpreter's recursion limit: each became a 500. Here each is a ``JSONInputError``
naming what is wrong, and nesting is limited by ``[ingest] max_json_depth``.
"""

from __future__ import annotations

import json
import math
from typing import Any

#: Longest integer literal accepted (digits and sign): no iPoint field needs more.
MAX_INT_CHARS = 20


class JSONInputError(ValueError):
    """Input that is not JSON the bridge accepts; ``line`` when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _constant(name: str) -> Any:
    raise JSONInputError(f"{name} is not a JSON value (RFC 8259 section 6)")


def _int(text: str) -> int:
    if len(text) > MAX_INT_CHARS:
        raise JSONInputError(f"an integer of {len(text)} characters is too long")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONInputError(f"the number {text[:30]} is out of range")
    return value


DECODER = json.JSONDecoder(parse_constant=_constant, parse_int=_int, parse_float=_float)


def loads(data: bytes | str, max_depth: int) -> Any:
    """Parse one JSON document with the bounds above.

    Raises:
        JSONInputError: not valid JSON, or a value or nesting beyond the bounds.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONInputError(f"not UTF-8 (byte {exc.start})") from exc
    try:
        value = DECODER.decode(data)
    except json.JSONDecodeError as exc:
        raise JSONInputError(f"not valid JSON: {exc.msg}", exc.lineno) from exc
    except RecursionError as exc:
        raise JSONInputError(f"nested deeper than {max_depth} levels") from exc
    check_depth(value, max_depth)
    return value


def check_depth(value: Any, max_depth: int) -> None:
    """Raises ``JSONInputError`` when arrays and objects nest deeper than ``max_depth``."""
    # Level by level, keeping only the containers: a record is one level of text values, so
    # this is one pass over its values (``import`` runs it on every record of a file).
    level = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > max_depth:
            raise JSONInputError(f"nested deeper than {max_depth} levels")
        inner: list[Any] = []
        for item in level:
            for child in item.values() if isinstance(item, dict) else item:
                if isinstance(child, (dict, list)):
                    inner.append(child)
        level = inner
