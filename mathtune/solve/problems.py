"""The problems `mathtune solve` answers: one from the command line, or a file of them.

A file is JSONL, Parquet or CSV with a `problem` column and, optionally, an `answer` column
holding gold answers (rows with one are graded). One JSONL line:

    {"problem": "What is 15% of 80?", "answer": "12"}

Every row is read and checked before any model loads, so a bad file fails in a second with
the line or row at fault; answers are kept as text (`12`, `1/2`, `\\frac{1}{2}` all grade).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from mathtune.core.errors import MathtuneError

SUFFIXES = (".jsonl", ".parquet", ".csv")
EXAMPLE_LINE = '{"problem": "What is 15% of 80?", "answer": "12"}'


class ProblemError(MathtuneError):
    """A problem or problem file cannot be answered; the message says the fix."""


@dataclass(frozen=True)
class Problem:
    """One problem and its gold answer (None: not graded)."""

    problem: str
    answer: str | None


def check_problem(text: str) -> str:
    """The problem given on the command line, refused when empty."""
    if not text.strip():
        raise ProblemError(
            'the problem is empty. Fix: pass its text, e.g. mathtune solve "What is 15% of 80?"'
        )
    return text


def read_problems(path: Path) -> list[Problem]:
    """Every row of a JSONL, Parquet or CSV file with a `problem` (and optional `answer`)."""
    if path.suffix not in SUFFIXES:
        raise ProblemError(
            f"{path}: cannot read {path.suffix or 'a file without a suffix'}. Fix: give a "
            f"{', '.join(SUFFIXES)} file with a `problem` column."
        )
    if not path.is_file():
        raise ProblemError(f"{path} not found. Fix: check the path given to --file.")
    columns, rows = _READERS[path.suffix](path)
    if "problem" not in columns:
        raise ProblemError(
            f"{path} has no `problem` column (its columns: {', '.join(columns) or 'none'}). "
            "Fix: name the column of problems `problem`, and that of gold answers `answer`."
        )
    problems = [_problem(path, where, row) for where, row in rows]
    if not problems:
        raise ProblemError(
            f"{path} holds no problems. Fix: one row per problem, e.g. {EXAMPLE_LINE}"
        )
    return problems


def _problem(path: Path, where: str, row: dict[str, Any]) -> Problem:
    text = _text(row.get("problem"))
    if text is None:
        raise ProblemError(
            f"{path} {where}: the problem is empty. Fix: fill in its `problem` or remove the row."
        )
    return Problem(text, _text(row.get("answer")))


def _text(value: Any) -> str | None:
    """A cell as text; None for a missing, null, NaN or blank one.

    >>> _text(12), _text(0.5), _text(" "), _text(float("nan"))
    ('12', '0.5', None, None)
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value)
    return text if text.strip() else None


# The file's columns, and each row with where it is (`line 3`, `row 3`) for error messages.
Rows = tuple[list[str], list[tuple[str, dict[str, Any]]]]


def _read_jsonl(path: Path) -> Rows:
    rows = []
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            row = None
        if not isinstance(row, dict):
            raise ProblemError(
                f"{path} line {number} is not a JSON object. Fix: one object per line, e.g. "
                f"{EXAMPLE_LINE}"
            )
        rows.append((f"line {number}", row))
    columns = list(dict.fromkeys(key for _, row in rows for key in row))
    return columns, rows


def _read_csv(path: Path) -> Rows:
    reader = csv.DictReader(_read_text(path).splitlines(keepends=True))
    columns = list(reader.fieldnames or [])
    rows = [(f"line {reader.line_num}", row) for row in reader]
    return columns, rows


def _read_parquet(path: Path) -> Rows:
    try:
        columns = pq.read_schema(path).names
        wanted = [name for name in ("problem", "answer") if name in columns]
        cells = pq.read_table(path, columns=wanted).to_pylist()
    except (pa.ArrowException, OSError) as err:
        raise ProblemError(
            f"{path} is not a readable Parquet file ({err}). Fix: write it with pyarrow or "
            "pandas' to_parquet, or give a .jsonl or .csv file."
        ) from err
    return columns, [(f"row {index}", row) for index, row in enumerate(cells, start=1)]


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ProblemError(f"{path} is not UTF-8 text ({err}). Fix: save it as UTF-8.") from err


_READERS = {".jsonl": _read_jsonl, ".parquet": _read_parquet, ".csv": _read_csv}
