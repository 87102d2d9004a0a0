"""Word 8-gram overlap between problems, to keep evaluation problems out of training.

A training problem is contaminated when it shares one word n-gram (n = 8, open-r1's choice
in its decontamination script) with an evaluation problem, after lower-casing and collapsing
white space, as open-r1 does. Problems shorter than n words have no n-gram and never match.

    >>> index = NgramIndex(8)
    >>> index.add("A train covers 120 km in 2 hours. What is its speed?")
    >>> index.overlaps("The train covers 120 km in 2 hours. What is its average speed?")
    True
    >>> index.overlaps("A car covers 120 km in 3 hours.")
    False

Benchmark problems come from local Parquet or JSONL files with a `problem` or `question`
column (MATH-500 has `problem`, GSM8K `question`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from mathtune.data.examples import DataError

PROBLEM_COLUMNS = ("problem", "question")


def normalize_text(text: str) -> str:
    """Lower case, runs of white space as one space.

    >>> normalize_text("  Find   X\\nnow ")
    'find x now'
    """
    return " ".join(text.lower().split())


def word_ngrams(text: str, size: int) -> set[str]:
    """The word n-grams of the normalized text.

    >>> sorted(word_ngrams("a b c", 2))
    ['a b', 'b c']
    """
    words = normalize_text(text).split()
    return {" ".join(words[start : start + size]) for start in range(len(words) - size + 1)}


class NgramIndex:
    """The word n-grams of a set of problems, to test other problems against."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.ngrams: set[str] = set()

    def add(self, text: str) -> None:
        self.ngrams |= word_ngrams(text, self.size)

    def overlaps(self, text: str) -> bool:
        return not self.ngrams.isdisjoint(word_ngrams(text, self.size))


def read_problem_texts(path: str | Path) -> list[str]:
    """Problem texts of a Parquet or JSONL file, from its `problem` or `question` column."""
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"prepare.decontaminate_against: {path} not found; paths are relative to the repo."
        )
    if path.suffix.lower() == ".parquet":
        names = pq.read_schema(path).names
        column = _problem_column(path, names)
        return [text for text in pq.read_table(path, columns=[column])[column].to_pylist() if text]
    if path.suffix.lower() in (".jsonl", ".json"):
        records = [
            json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()
        ]
        column = _problem_column(path, list(records[0]) if records else [])
        return [record[column] for record in records if record.get(column)]
    raise DataError(
        f"prepare.decontaminate_against: {path} has suffix {path.suffix!r}; "
        "use Parquet or JSON Lines files with a problem or question column."
    )


def _problem_column(path: Path, names: list[str]) -> str:
    for column in PROBLEM_COLUMNS:
        if column in names:
            return column
    raise DataError(
        f"prepare.decontaminate_against: {path} has columns {names} but neither 'problem' nor "
        "'question'; rename its problem text column."
    )
