"""FileMaker find requests: criteria per field type, OR-ed requests, omit requests, sort.

Operators (FileMaker Pro's "Finding records" help): a plain text criterion matches fields with a
word beginning with each of its words (case-insensitive, ``*`` any characters, ``@`` one);
``=word`` a whole word; ``==text`` the whole field; ``=`` alone an empty field; ``*`` alone any
non-empty field; ``<``, ``<=``, ``>``, ``>=`` and ``a...b`` (inclusive) compare by the field's
type; for numbers, dates, times and timestamps a plain value means equal. A date given for a
timestamp field stands for its whole day. Empty fields match no comparison.

Requests are applied in order, as FileMaker does: find requests add records, omit requests take
them away from what the earlier requests found.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from filemaker_emulator.errors import FmError
from filemaker_emulator.model import FieldResult, Record, Value
from filemaker_emulator.values import parse_date, parse_time, parse_timestamp

Predicate = Callable[[Value], bool]
_RANGE = re.compile(r"(.*?)\.\.\.(.*)")
_OPS = ("<=", ">=", "<", ">")


def _bounds(text: str, result: FieldResult, fmt: int, name: str) -> tuple[Any, Any]:
    """The low and high value a criterion's operand stands for (equal unless a whole day)."""
    text = text.strip()
    value: Any
    if result == "number":
        try:
            value = float(text)
        except ValueError:
            raise FmError(1708, f"{name!r}: {text!r} is not a number") from None
        return value, value
    if result == "date":
        value = parse_date(text, fmt)
    elif result == "time":
        value = parse_time(text)
    elif result == "timeStamp":
        if ":" not in text:
            day = parse_date(text, fmt)
            if day is not None:
                return dt.datetime.combine(day, dt.time(0)), dt.datetime.combine(
                    day, dt.time(23, 59, 59)
                )
        value = parse_timestamp(text, fmt)
    else:
        folded = text.casefold()
        return folded, folded
    if value is None:
        raise FmError(500 if result != "time" else 501, f"{name!r}: {text!r} is not a {result}")
    return value, value


def _key(value: Value, result: FieldResult) -> Any:
    return value.casefold() if result == "text" and isinstance(value, str) else value


def _wildcard(word: str) -> re.Pattern[str]:
    pattern = "".join(
        ".*" if c == "*" else "." if c == "@" else re.escape(c) for c in word.casefold()
    )
    return re.compile(pattern)


def _text_words(criterion: str, whole_word: bool) -> Predicate:
    words = [_wildcard(w) for w in criterion.split()]

    def match(value: Value) -> bool:
        if not isinstance(value, str) or not value:
            return False
        field_words = re.findall(r"\w[\w'*@.-]*|\S", value.casefold())
        for pattern in words:
            test = pattern.fullmatch if whole_word else pattern.match
            if not any(test(w) for w in field_words):
                return False
        return True

    return match


def predicate(criterion: str, result: FieldResult, fmt: int, name: str) -> Predicate:
    """What one criterion of one field selects."""
    text = criterion.strip()
    if text == "=":
        return lambda v: v is None
    if text == "*":
        return lambda v: v is not None
    if text.startswith("=="):
        operand = text[2:]
        if result == "text":
            return lambda v: isinstance(v, str) and v.casefold() == operand.casefold()
        lo, hi = _bounds(operand, result, fmt, name)
        return lambda v: v is not None and lo <= _key(v, result) <= hi
    op = next((o for o in _OPS if text.startswith(o)), None)
    if op is not None:
        lo, hi = _bounds(text[len(op) :], result, fmt, name)
        compare: dict[str, Predicate] = {
            "<": lambda k: k < lo,
            "<=": lambda k: k <= hi,
            ">": lambda k: k > hi,
            ">=": lambda k: k >= lo,
        }
        test = compare[op]
        return lambda v: v is not None and test(_key(v, result))
    ranged = _RANGE.fullmatch(text)
    if ranged:
        lo, _ = _bounds(ranged[1], result, fmt, name)
        _, hi = _bounds(ranged[2], result, fmt, name)
        return lambda v: v is not None and lo <= _key(v, result) <= hi
    if result == "text":
        whole = text.startswith("=")
        return _text_words(text[1:] if whole else text, whole)
    operand = text[1:] if text.startswith("=") else text
    lo, hi = _bounds(operand, result, fmt, name)
    return lambda v: v is not None and lo <= _key(v, result) <= hi


Request = tuple[bool, list[tuple[str, Predicate]]]
"""(omit, [(field, predicate)])"""


def compile_query(query: Any, field_type: Callable[[str], FieldResult], fmt: int) -> list[Request]:
    """The body's ``query`` list as requests; 1708 when it is not a list of objects of strings."""
    if not isinstance(query, list) or not query:
        raise FmError(1708, "query must be a non-empty array of find requests")
    requests: list[Request] = []
    for item in query:
        if not isinstance(item, dict):
            raise FmError(1708, "each find request must be an object")
        omit = str(item.get("omit", "false")).lower() == "true"
        criteria: list[tuple[str, Predicate]] = []
        for name, raw in item.items():
            if name == "omit":
                continue
            if raw is None or isinstance(raw, list | dict | bool):
                raise FmError(1708, f"criterion of {name!r} must be a string or number")
            result = field_type(name)
            criteria.append((name, predicate(str(raw), result, fmt, name)))
        if not criteria:
            raise FmError(1708, "a find request needs at least one field")
        requests.append((omit, criteria))
    return requests


def run(
    requests: Sequence[Request],
    records: Iterable[Record],
    read_all: Callable[[Record, str], list[Value]],
) -> list[Record]:
    """The found set, in creation order; a related field matches when any related row does."""
    found: dict[int, Record] = {}
    all_records = list(records)
    for omit, criteria in requests:
        for record in all_records:
            if all(any(map(test, read_all(record, name))) for name, test in criteria):
                if omit:
                    found.pop(record.record_id, None)
                else:
                    found[record.record_id] = record
    return sorted(found.values(), key=lambda r: r.record_id)


def sort(
    records: list[Record],
    spec: Any,
    field_type: Callable[[str], FieldResult],
    read: Callable[[Record, str], Value],
) -> list[Record]:
    """``[{"fieldName": ..., "sortOrder": "ascend"|"descend"}]``; empty values sort first."""
    if spec is None:
        return records
    if not isinstance(spec, list):
        raise FmError(1708, "sort must be an array")
    keys: list[tuple[str, FieldResult, bool]] = []
    for item in spec:
        if not isinstance(item, dict) or not isinstance(item.get("fieldName"), str):
            raise FmError(1708, "each sort item needs a fieldName")
        order = str(item.get("sortOrder", "ascend"))
        if order not in ("ascend", "descend"):
            raise FmError(1708, f"sortOrder must be ascend or descend, not {order!r}")
        name = item["fieldName"]
        keys.append((name, field_type(name), order == "descend"))
    for name, result, descend in reversed(keys):

        def sort_key(record: Record, n: str = name, t: FieldResult = result) -> tuple[bool, Any]:
            value = read(record, n)
            return (value is not None, _key(value, t) if value is not None else 0)

        records = sorted(records, key=sort_key, reverse=descend)
    return records
