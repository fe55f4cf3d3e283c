"""Item 8 of issue 10: `import` reads a JSON array in one pass, counting each newline once
(it counted from the start of the file for every record: quadratic). The speed is measured by
``bench/ingest_bench.py`` (10,000 against 100,000 records); this pins that the single pass
still names the right line in every shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.errors import ValidationError
from bridge.importer import read_records


def rec(i: int) -> dict[str, object]:
    return {"id": f"r{i}", "user": "chris", "title": "a\nb", "start": "2026-12-01"}


def test_line_of_each_record_in_a_pretty_array(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps([rec(i) for i in range(500)], indent=2))
    lines = [line for line, _ in read_records(path)]
    # indent=2: "[", then each record is "{", four fields, "}," = 6 lines.
    assert lines == [2 + 6 * i for i in range(500)]


def test_one_line_file_and_wrapper(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps([rec(i) for i in range(300)]))
    assert {line for line, _ in read_records(path)} == {1}
    path.write_text('{"events":\n[\n' + ",\n".join(json.dumps(rec(i)) for i in range(3)) + "\n]}")
    assert [line for line, _ in read_records(path)] == [3, 4, 5]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('[\n{"id": "a"},\n{"id": NaN}\n]', 3, "NaN"),
        ('[\n{"id": "a"},\n{"id": "b"} x\n]', 3, "expected"),
        ('[\n{"id": "a"}\n]\ntrailing', 4, "extra data"),
        ('[\n{"id": "a"},\n[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]\n]', 3, "nested"),
    ],
)
def test_errors_name_their_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ValidationError) as caught:
        read_records(path)
    (problem,) = caught.value.problems
    assert problem.line == line and words in problem.reason, problem


def test_the_events_wrapper_imports_its_own_array(tmp_path: Path) -> None:
    """Reproduces: the records of ``{"events": [...]}`` were decoded again from the text after
    the first ``"events"`` it held, so an ``"events"`` key nested earlier (or in a string) was
    imported instead of the real array."""
    path = tmp_path / "wrapped.json"
    path.write_text(
        '{"meta": {"events": [{"id": "bogus"}]}, "source": "events", '
        '"events": [{"id": "real1"}, {"id": "real2"}]}',
        encoding="utf-8",
    )
    assert [item for _, item in read_records(path)] == [{"id": "real1"}, {"id": "real2"}]


def test_a_huge_integer_on_the_first_line_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    """Reproduces: a first line holding an integer past Python's conversion limit raised
    ValueError out of the JSON-lines sniffing, a traceback instead of exit 2."""
    path = tmp_path / "big.jsonl"
    path.write_text('{"a": ' + "1" * 5000 + '}\n{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(ValidationError):
        read_records(path)
