"""FileMaker's own export files, read into raw ingest records for ``ipoint-bridge import``.

Formats (FileMaker Pro Help, "Export file formats"): a Merge file (``.mer``) is CSV whose first
row holds the field names; a comma-separated (``.csv``) or tab-separated (``.tab``) export has no
header row. All separate records with CR, write a return inside a field as a vertical tab (0x0B)
and separate repeating values, and the values of a related field from several related records,
with the group separator (0x1D); dates are in the file's format (US: ``MM/dd/yyyy``). A file
saved in Windows ANSI rather than UTF-8 is read as cp1252.

Column names come from the ``.mer`` header, or from ``--columns`` in export order. Without a map
they are ingest field names (docs/ingest.md) and values are only cleaned (returns, repetitions,
US dates to ISO); with ``--map NAME`` they are FileMaker field names, read through source NAME's
field map exactly as the Data API connector reads a record (``mapping.to_ingest``), a related
attendees field's values becoming the portal's rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..errors import Problem, ValidationError
from .mapping import FileMakerRecord, to_ingest
from .settings import FileMakerSettings
from .values import GS, VT, ValueFormatError, clean_text, parse_timestamp, split_values

MERGE_SUFFIX = ".mer"
TAB_SUFFIXES = (".tab", ".tsv")
LIST_FIELDS = ("attendees", "exdates")
TIME_FIELDS = ("start", "end")

Rows = list[tuple[int, dict[str, str]]]


def is_filemaker_export(path: Path, columns: Sequence[str] | None) -> bool:
    """A file this module reads rather than the generic importer: ``.mer``, ``.tab``, or any
    file whose columns are given (a headerless export)."""
    return bool(columns) or path.suffix.lower() in (MERGE_SUFFIX, *TAB_SUFFIXES)


def _decode(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError([Problem(None, None, f"cannot read {path}: {exc.strerror}")]) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise ValidationError(
                [Problem(None, None, f"{path.name}: neither UTF-8 nor Windows ANSI text")]
            ) from exc


def read_rows(path: Path, columns: Sequence[str] | None = None) -> Rows:
    """The export's records as {column: text} with their line numbers.

    Raises:
        ValidationError: unreadable file, a .mer without header, a row wider than the columns.
    """
    text = _decode(path)
    tab = path.suffix.lower() in TAB_SUFFIXES
    stream = io.StringIO(text, newline="")
    reader = (
        csv.reader(stream, delimiter="\t", quoting=csv.QUOTE_NONE) if tab else csv.reader(stream)
    )
    names: list[str] | None = [c.strip() for c in columns] if columns else None
    rows: Rows = []
    problems: list[Problem] = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if names is None:
            names = [c.strip() for c in cells]
            if path.suffix.lower() != MERGE_SUFFIX:
                raise ValidationError(
                    [Problem(None, None, "a FileMaker export has no header: give --columns")]
                )
            continue
        if len(cells) > len(names):
            problems.append(
                Problem(None, None, f"{len(cells)} cells but {len(names)} columns", reader.line_num)
            )
            continue
        rows.append((reader.line_num, dict(zip(names, cells, strict=False))))
    if names is None and path.suffix.lower() == MERGE_SUFFIX:
        raise ValidationError([Problem(None, None, f"{path.name}: no header row")])
    if problems:
        raise ValidationError(problems)
    return rows


def _plain(row: dict[str, str]) -> dict[str, object]:
    """A row whose columns are ingest fields: FileMaker's text made plain, US times to ISO."""
    record: dict[str, object] = {}
    for key, value in row.items():
        if not value.strip():
            continue
        if key in LIST_FIELDS:
            record[key] = split_values(value)
        elif key in TIME_FIELDS and "/" in value:
            try:
                stamp = parse_timestamp(value)
            except ValueFormatError:
                record[key] = value.strip()  # validation names it
            else:
                timed = ":" in value
                record[key] = stamp.isoformat() if timed else stamp.date().isoformat()
        else:
            record[key] = clean_text(value).strip()
    return record


def _check_columns(names: Sequence[str], source: FileMakerSettings, map_name: str) -> None:
    needed = list(source.filemaker_fields())
    if source.attendees_field:
        needed.append(source.attendees_field)
    missing = [n for n in needed if n not in names]
    if missing:
        raise ValidationError(
            [
                Problem(
                    None,
                    None,
                    f"source {map_name!r} maps fields the file lacks: {', '.join(missing)} "
                    f"(the file has: {', '.join(names)})",
                )
            ]
        )


def _mapped(
    rows: Rows, source: FileMakerSettings, map_name: str
) -> Iterator[tuple[int | None, object]]:
    if rows:
        _check_columns(list(rows[0][1]), source, map_name)
    problems: list[Problem] = []
    for line, row in rows:
        portals = {}
        if source.attendees_portal:
            values = row.get(source.attendees_field, "")
            portals[source.attendees_portal] = [
                {source.attendees_field: v} for v in values.replace(VT, GS).split(GS) if v.strip()
            ]
        raw, found = to_ingest(FileMakerRecord(row, portals), source)
        problems += [Problem(p.record, p.field, p.reason, line) for p in found]
        if raw is not None:
            yield line, raw
    if problems:
        raise ValidationError(problems)


def read_export(
    path: Path,
    *,
    columns: Sequence[str] | None = None,
    source: FileMakerSettings | None = None,
    map_name: str = "",
) -> list[tuple[int | None, object]]:
    """Raw ingest records of a FileMaker export, with their line numbers.

    Raises:
        ValidationError: every problem of every row (all or nothing, like every import).
    """
    rows = read_rows(path, columns)
    if source is None:
        return [(line, _plain(row)) for line, row in rows]
    return list(_mapped(rows, source, map_name))
