"""Grading `mathtune solve --file` answers and writing them, one row per problem.

Each completion is graded by the checker that RL rewards and evaluation use
(`mathtune.grading`) and given the same reasoning score. One row (JSONL):

    {"model": "grpo", "problem": "What is 15% of 80?", "answer": "12",
     "generation": "15% of 80 is 0.15 * 80 = 12. ... \\boxed{12}", "extracted_answer": "12",
     "correct": true, "format_ok": true, "grader_timed_out": false,
     "reasoning_quality": 0.75, "generated_tokens": 31, "truncated": false}

`correct` is null for a problem without a gold answer. The file is written all or nothing,
as JSONL, Parquet or CSV by its suffix (checked before any model loads).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from mathtune.core.errors import MathtuneError
from mathtune.core.io import atomic_path, write_csv, write_parquet
from mathtune.core.statistics import mean, standard_error
from mathtune.grading.grader import grade_completions
from mathtune.grading.reasoning import score_reasoning
from mathtune.models.generation import Generation
from mathtune.solve.problems import SUFFIXES, Problem


class PredictionsError(MathtuneError):
    """The predictions cannot be written where asked; the message says the fix."""


@dataclass(frozen=True)
class Solved:
    """One problem answered and graded: a row of the predictions file."""

    model: str
    problem: str
    answer: str | None  # the gold answer; None: not graded
    generation: str
    extracted_answer: str | None
    correct: bool | None  # None without a gold answer
    format_ok: bool  # the answer is in \boxed{}
    grader_timed_out: bool  # the comparison ran past the grader's deadline: scored wrong
    reasoning_quality: float  # in [0, 1], mathtune.grading.reasoning
    generated_tokens: int
    truncated: bool  # cut at the token limit before the end of the turn


# Columns of a Parquet predictions file: the Solved fields, in order.
SCHEMA = pa.schema(
    [
        ("model", pa.string()),
        ("problem", pa.string()),
        ("answer", pa.string()),
        ("generation", pa.string()),
        ("extracted_answer", pa.string()),
        ("correct", pa.bool_()),
        ("format_ok", pa.bool_()),
        ("grader_timed_out", pa.bool_()),
        ("reasoning_quality", pa.float64()),
        ("generated_tokens", pa.int64()),
        ("truncated", pa.bool_()),
    ]
)


@dataclass(frozen=True)
class Accuracy:
    """Accuracy over the graded problems and its standard error."""

    graded: int
    accuracy: float
    stderr: float


def grade_answers(
    model: str, problems: list[Problem], generations: list[Generation]
) -> list[Solved]:
    """Each generation graded against its problem's gold answer, when it has one."""
    texts = [generation.text for generation in generations]
    grades = grade_completions(texts, [problem.answer for problem in problems])
    return [
        Solved(
            model=model,
            problem=problem.problem,
            answer=problem.answer,
            generation=generation.text,
            extracted_answer=grade.extracted,
            correct=grade.correct if problem.answer is not None else None,
            format_ok=grade.boxed,
            grader_timed_out=grade.timed_out,
            reasoning_quality=score_reasoning(generation.text),
            generated_tokens=generation.generated_tokens,
            truncated=generation.truncated,
        )
        for problem, generation, grade in zip(problems, generations, grades, strict=True)
    ]


def summarize_accuracy(rows: list[Solved]) -> Accuracy | None:
    """Accuracy ± standard error over the rows with a gold answer; None when none has one."""
    hits = [row.correct for row in rows if row.correct is not None]
    return Accuracy(len(hits), mean(hits), standard_error(hits)) if hits else None


def default_output(problem_file: Path) -> Path:
    """Where predictions go unless --out says: beside the problems, in the same format.

    >>> default_output(Path("data/problems.jsonl"))
    PosixPath('data/problems.predictions.jsonl')
    """
    return problem_file.with_name(f"{problem_file.stem}.predictions{problem_file.suffix}")


def check_output(path: Path, problem_file: Path) -> None:
    """Refuse, before any model loads, an output that cannot be written or would overwrite
    the problems."""
    if path.suffix not in SUFFIXES:
        raise PredictionsError(
            f"--out {path}: cannot write {path.suffix or 'a file without a suffix'}. Fix: end "
            f"it with {', '.join(SUFFIXES)}."
        )
    if path.resolve() == problem_file.resolve():
        raise PredictionsError(
            f"--out {path} is the problem file itself. Fix: give another --out path."
        )


def write_predictions(path: Path, rows: list[Solved]) -> None:
    """Write the rows as JSONL, Parquet or CSV (by the suffix); all or nothing."""
    records = [dataclasses.asdict(row) for row in rows]
    if path.suffix == ".parquet":
        write_parquet(path, pa.Table.from_pylist(records, schema=SCHEMA))
    elif path.suffix == ".csv":
        write_csv(path, records, fieldnames=SCHEMA.names)
    else:
        with atomic_path(path) as temporary:
            lines = (json.dumps(record, ensure_ascii=False) + "\n" for record in records)
            temporary.write_text("".join(lines), encoding="utf-8")
