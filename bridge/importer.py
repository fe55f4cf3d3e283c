"""Reading iPoint export files (JSON array, JSON lines, CSV) into raw records with line numbers.

Line numbers are those of the file, so an admin can find the bad record: for a JSON array,
the line where the record's object starts.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

from .errors import Problem, ValidationError
from .jsonin import DECODER, JSONInputError, check_depth, loads

LIST_COLUMNS = ("attendees", "exdates")


def read_records(path: Path, max_depth: int = 20) -> list[tuple[int | None, object]]:
    """Raw records of an export file with their line numbers, in time linear in its size.

    Args:
        max_depth: deepest JSON nesting accepted (``[ingest] max_json_depth``).

    Raises:
        ValidationError: the file cannot be read or is not JSON, JSON lines or CSV.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError([Problem(None, None, f"cannot read {path}: {exc}")]) from exc
    suffix = path.suffix.lower()
    stripped = text.lstrip()
    try:
        if suffix in (".jsonl", ".ndjson") or (
            suffix != ".csv" and stripped.startswith("{") and _looks_like_lines(stripped)
        ):
            return list(_json_lines(text, max_depth))
        if suffix == ".json" or stripped.startswith(("[", "{")):
            return list(_json_array(text, max_depth))
        if suffix in (".csv", ".txt", "") or "," in text.split("\n", 1)[0]:
            return list(_csv(text))
    except JSONInputError as exc:
        raise ValidationError([Problem(None, None, exc.message, exc.line)]) from exc
    raise ValidationError(
        [Problem(None, None, f"{path.name}: unknown format (use .json, .jsonl or .csv)")]
    )


def _looks_like_lines(text: str) -> bool:
    first, newline, rest = text.partition("\n")
    if not newline or not rest.strip():
        return False
    try:
        json.loads(first.strip())
    except (ValueError, RecursionError):  # JSONDecodeError, or an integer too long to convert
        return False
    return True


class _Lines:
    """Line numbers of offsets visited in increasing order: each newline is counted once."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1

    def at(self, offset: int) -> int:
        self.line += self.text.count("\n", self.pos, offset)
        self.pos = offset
        return self.line


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _json_array(text: str, max_depth: int) -> Iterator[tuple[int | None, object]]:
    """The records of ``[...]`` or ``{"events": [...]}``, each decoded once, with the line
    where its object starts."""
    lines = _Lines(text)
    pos = _skip(text, 0)
    if text.startswith("{", pos):
        whole = loads(text, max_depth)
        if not isinstance(whole, dict) or not isinstance(whole.get("events"), list):
            raise JSONInputError(
                'a JSON file must hold an array of records or {"events": [...]}', 1
            )
        # The wrapper's own array (the text may say "events" elsewhere first), read again
        # from the text for its records' line numbers; the rest was checked by ``loads``.
        start, wrapped = _events_start(text, pos), True
    elif text.startswith("[", pos):
        start, wrapped = pos, False
    else:
        raise JSONInputError('a JSON file must hold an array of records or {"events": [...]}', 1)
    pos = _skip(text, start + 1)
    if text.startswith("]", pos):
        _end(text, pos + 1, lines, wrapped)
        return
    while True:
        try:
            item, end = DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise JSONInputError(f"not valid JSON: {exc.msg}", lines.at(exc.pos)) from exc
        except RecursionError as exc:
            raise JSONInputError(f"nested deeper than {max_depth} levels", lines.at(pos)) from exc
        except JSONInputError as exc:
            raise JSONInputError(exc.message, lines.at(pos)) from exc
        line = lines.at(pos)
        try:
            check_depth(item, max_depth - 1)
        except JSONInputError as exc:
            raise JSONInputError(exc.message, line) from exc
        yield line, item
        pos = _skip(text, end)
        if text.startswith(",", pos):
            pos = _skip(text, pos + 1)
            continue
        if text.startswith("]", pos):
            _end(text, pos + 1, lines, wrapped)
            return
        raise JSONInputError("not valid JSON: expected ',' or ']'", lines.at(pos))


def _events_start(text: str, pos: int) -> int:
    """Where the value of the top-level object's last ``"events"`` key starts (the one
    ``json.loads`` keeps), for text already parsed whole; each other value is skipped by
    decoding it."""
    found = -1
    pos = _skip(text, pos + 1)
    while not text.startswith("}", pos):
        key, pos = DECODER.raw_decode(text, pos)
        pos = _skip(text, _skip(text, pos) + 1)  # past the colon
        if key == "events":
            found = pos
        _, pos = DECODER.raw_decode(text, pos)
        pos = _skip(text, pos)
        if text.startswith(",", pos):
            pos = _skip(text, pos + 1)
    return found


def _end(text: str, pos: int, lines: _Lines, wrapped: bool) -> None:
    """After the array: nothing but white space (a wrapper's rest was parsed whole already)."""
    if wrapped:
        return
    pos = _skip(text, pos)
    if pos < len(text):
        raise JSONInputError("not valid JSON: extra data after the array", lines.at(pos))


def _json_lines(text: str, max_depth: int) -> Iterator[tuple[int | None, object]]:
    problems: list[Problem] = []
    out: list[tuple[int | None, object]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append((number, loads(line, max_depth)))
        except JSONInputError as exc:
            problems.append(Problem(None, None, exc.message, number))
    if problems:
        raise ValidationError(problems)
    yield from out


def _csv(text: str) -> Iterator[tuple[int | None, object]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        if not reader.fieldnames:
            return
        reader.fieldnames = [f.strip() for f in reader.fieldnames]
        for row in reader:
            record: dict[str, object] = {}
            if None in row:
                raise ValidationError(
                    [Problem(None, None, "more cells than header columns", reader.line_num)]
                )
            for key, value in row.items():
                if value is None or value.strip() == "":
                    continue
                record[key] = value.strip()
            yield reader.line_num, record
    except csv.Error as exc:
        raise ValidationError(
            [Problem(None, None, f"not valid CSV: {exc}", reader.line_num)]
        ) from exc
