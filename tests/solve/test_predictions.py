"""Predictions: graded by the project's checker, accuracy ± standard error over graded rows,
written in the format the suffix names, refused before loading when they cannot be."""

from __future__ import annotations

import csv
import dataclasses
import doctest
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from mathtune.models.generation import Generation
from mathtune.solve import predictions as predictions_module
from mathtune.solve.predictions import (
    SCHEMA,
    PredictionsError,
    Solved,
    check_output,
    grade_answers,
    summarize_accuracy,
    write_predictions,
)
from mathtune.solve.problems import Problem

PROBLEMS = [
    Problem("What is 15% of 80?", "12"),
    Problem("Halve 1.", "1/2"),
    Problem("Name a prime.", None),
]
GENERATIONS = [
    Generation("First, 0.15 * 80 = 12.\nSo the answer is \\boxed{12}.", 20, False),
    Generation("Half of 1 is 0.4", 8, True),
    Generation("\\boxed{7}", 4, False),
]


@pytest.fixture
def rows() -> list[Solved]:
    return grade_answers("grpo", PROBLEMS, GENERATIONS)


def test_rows_hold_grade_extraction_and_reasoning_score(rows):
    first, second, third = rows
    assert (first.extracted_answer, first.correct, first.format_ok) == ("12", True, True)
    assert first.reasoning_quality > 0 and not first.truncated
    assert (second.correct, second.format_ok, second.truncated) == (False, False, True)
    assert (third.extracted_answer, third.correct) == ("7", None), "no gold: not graded"
    assert [field.name for field in dataclasses.fields(Solved)] == SCHEMA.names


def test_accuracy_counts_only_graded_rows(rows):
    accuracy = summarize_accuracy(rows)
    assert (accuracy.graded, accuracy.accuracy) == (2, 0.5)
    assert accuracy.stderr == pytest.approx(0.5)  # sd 0.707 over sqrt(2)
    assert summarize_accuracy(rows[2:]) is None


def read_back(path: Path) -> list[dict]:
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    if path.suffix == ".csv":
        with path.open() as stream:
            return list(csv.DictReader(stream))
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet", ".csv"])
def test_predictions_are_written_in_the_suffix_format(suffix, rows, tmp_path):
    path = tmp_path / f"out{suffix}"
    write_predictions(path, rows)
    back = read_back(path)
    assert [row["generation"] for row in back] == [g.text for g in GENERATIONS]
    assert list(back[0]) == SCHEMA.names
    assert [path.name for path in tmp_path.iterdir()] == [f"out{suffix}"], "no temporary left"


def test_jsonl_keeps_types_and_null_grades(rows, tmp_path):
    write_predictions(tmp_path / "out.jsonl", rows)
    back = read_back(tmp_path / "out.jsonl")
    assert back[2]["correct"] is None and back[0]["correct"] is True
    assert back[0]["generated_tokens"] == 20


@pytest.mark.parametrize(
    "out, message",
    [
        ("p.txt", r"cannot write \.txt\. Fix: end it with \.jsonl"),
        ("predictions", "cannot write a file without a suffix"),
        ("problems.jsonl", "is the problem file itself. Fix"),
    ],
)
def test_outputs_that_cannot_be_written_are_refused(out, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PredictionsError, match=message):
        check_output(Path(out), tmp_path / "problems.jsonl")


def test_doctests_pass():
    assert doctest.testmod(predictions_module).failed == 0
