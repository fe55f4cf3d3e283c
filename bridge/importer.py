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

LIST_COLUMNS = ("attendees", "exdates")


def read_records(path: Path) -> list[tuple[int | None, object]]:
    """Raw records of an export file with their line numbers.

    Raises:
        ValidationError: the file cannot be read or is not JSON, JSON lines or CSV.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError([Problem(None, None, f"cannot read {path}: {exc}")]) from exc
    suffix = path.suffix.lower()
    stripped = text.lstrip()
    if suffix in (".jsonl", ".ndjson") or (
        suffix != ".csv" and stripped.startswith("{") and _looks_like_lines(stripped)
    ):
        return list(_json_lines(text))
    if suffix == ".json" or stripped.startswith(("[", "{")):
        return list(_json_array(text))
    if suffix in (".csv", ".txt", "") or "," in text.split("\n", 1)[0]:
        return list(_csv(text))
    raise ValidationError(
        [Problem(None, None, f"{path.name}: unknown format (use .json, .jsonl or .csv)")]
    )


def _looks_like_lines(text: str) -> bool:
    first = text.split("\n", 1)[0].strip()
    try:
        json.loads(first)
    except json.JSONDecodeError:
        return False
    return "\n" in text.strip()


def _json_array(text: str) -> Iterator[tuple[int | None, object]]:
    decoder = json.JSONDecoder()
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            [Problem(None, None, f"not valid JSON: {exc.msg}", exc.lineno)]
        ) from exc
    if isinstance(whole, dict) and isinstance(whole.get("events"), list):
        whole = whole["events"]
        start = text.index("[", text.index('"events"'))
    elif isinstance(whole, list):
        start = text.index("[")
    else:
        raise ValidationError(
            [
                Problem(
                    None, None, 'a JSON file must hold an array of records or {"events": [...]}', 1
                )
            ]
        )
    pos = start + 1
    # Lines are counted from the previous record on, not from the top (quadratic for big files).
    line, counted = 1, 0
    for item in whole:
        while text[pos] in " \t\r\n,":
            pos += 1
        _, end = decoder.raw_decode(text, pos)
        line += text.count("\n", counted, pos)
        counted = pos
        yield line, item
        pos = end


def _json_lines(text: str) -> Iterator[tuple[int | None, object]]:
    problems: list[Problem] = []
    out: list[tuple[int | None, object]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            problems.append(Problem(None, None, f"not valid JSON: {exc.msg}", number))
    if problems:
        raise ValidationError(problems)
    yield from out


def _csv(text: str) -> Iterator[tuple[int | None, object]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
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
