"""Raw OpenR1 rows → prepared training examples, or the reason a row is dropped.

A prepared example (one row of data/prepared/*.parquet, PREPARED_SCHEMA order):

    Example(uuid="1f0c...", problem="Tom has 23 apples ...", answer="38",
            target="Step 1: ... The answer is $\\boxed{38}$.", problem_type="Algebra",
            question_type="math-word-problem", source="olympiads")

Rows are dropped, never silently: every reason in DROP_REASONS is counted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mathtune.schema import METADATA_COLUMNS, Target
from mathtune.sources import RowBatch

logger = logging.getLogger(__name__)

DROP_REASONS = (
    "non_string_field",  # a text column holds a number, list, ... instead of a string
    "missing_uuid",  # no uuid: the split hash and de-duplication need one
    "missing_problem",
    "missing_answer",
    "missing_target",  # empty solution, or (target: trace) no correct, complete trace
    "duplicate_uuid",  # a uuid already kept; the first usable row wins
)
TEXT_COLUMNS = ("uuid", "problem", "answer", "solution", *METADATA_COLUMNS)


class DataError(ValueError):
    """The data leaves nothing to train or validate on."""


@dataclass(frozen=True)
class Example:
    """One prepared row; `target` is the text the model is trained to write."""

    uuid: str
    problem: str
    answer: str
    target: str
    problem_type: str
    question_type: str
    source: str


@dataclass
class ExampleCounts:
    """What happened to the rows read: kept, or dropped per reason."""

    rows_read: int = 0
    kept: int = 0
    dropped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DROP_REASONS, 0))


def select_trace(generations: Any, verified: Any, complete: Any) -> str | None:
    """First generation that math-verify marked correct and whose reasoning completed.

    >>> select_trace(["<think>a</think> 3", "<think>b</think> 2"], [False, True], [True, True])
    '<think>b</think> 2'
    >>> select_trace(["<think>a"], [True], [False]) is None
    True
    """
    if not all(isinstance(value, list) for value in (generations, verified, complete)):
        return None
    # Messy sources may give lists of unequal length: a trace without both flags is not used.
    for text, correct, done in zip(generations, verified, complete, strict=False):
        if correct is True and done is True and isinstance(text, str) and text.strip():
            return text
    return None


def build_example(row: dict[str, Any], target: Target) -> Example | str:
    """An Example from a raw row, or the DROP_REASONS entry that rules the row out.

    >>> row = {"uuid": "u1", "problem": "1 + 1?", "solution": "$\\\\boxed{2}$", "answer": "2",
    ...        "problem_type": "Algebra", "question_type": "math-word-problem", "source": "x"}
    >>> build_example(row, "solution").target
    '$\\\\boxed{2}$'
    >>> build_example({**row, "answer": "  "}, "solution")
    'missing_answer'
    >>> build_example({**row, "answer": 2}, "solution")
    'non_string_field'
    """
    if _has_non_string(row, target):
        return "non_string_field"
    if target == "solution":
        text = row.get("solution")
    else:
        text = select_trace(
            row.get("generations"),
            row.get("correctness_math_verify"),
            row.get("is_reasoning_complete"),
        )
    for reason, value in (
        ("missing_uuid", row.get("uuid")),
        ("missing_problem", row.get("problem")),
        ("missing_answer", row.get("answer")),
        ("missing_target", text),
    ):
        if value is None or not value.strip():
            return reason
    # Metadata only labels rows; a null there is not worth losing the row.
    labels = {column: row.get(column) or "" for column in METADATA_COLUMNS}
    return Example(row["uuid"], row["problem"], row["answer"], text, **labels)


def _has_non_string(row: dict[str, Any], target: Target) -> bool:
    # The solution only matters when it is the target.
    columns = [column for column in TEXT_COLUMNS if target == "solution" or column != "solution"]
    if any(
        row.get(column) is not None and not isinstance(row.get(column), str) for column in columns
    ):
        return True
    generations = row.get("generations")
    if target == "trace" and generations is not None:
        return not isinstance(generations, list) or any(
            text is not None and not isinstance(text, str) for text in generations
        )
    return False


def iter_examples(
    batches: Iterable[RowBatch], target: Target, max_rows: int | None, counts: ExampleCounts
) -> Iterator[tuple[Example, str | None]]:
    """Usable examples in source order with the source's split; tallies drops in `counts`.

    Stops reading once `max_rows` examples are kept. Raises DataError if none is usable.
    """
    yield from _iter_usable(batches, target, max_rows, counts)
    logger.info("%d rows read, %d kept, dropped: %s", counts.rows_read, counts.kept, counts.dropped)
    if counts.kept == 0:
        reasons = {reason: n for reason, n in counts.dropped.items() if n}
        raise DataError(
            f"No usable rows: all {counts.rows_read} rows read were dropped ({reasons or 'none'})."
            " Check prepare.target (trace needs generations marked correct and complete) "
            "and that the source has problem, answer and solution text."
        )


def _iter_usable(
    batches: Iterable[RowBatch], target: Target, max_rows: int | None, counts: ExampleCounts
) -> Iterator[tuple[Example, str | None]]:
    seen: set[str] = set()
    for batch in batches:
        for row in batch.rows:
            if max_rows is not None and counts.kept >= max_rows:
                return
            counts.rows_read += 1
            example = build_example(row, target)
            if isinstance(example, Example) and example.uuid in seen:
                example = "duplicate_uuid"
            if isinstance(example, str):
                counts.dropped[example] += 1
                continue
            seen.add(example.uuid)
            counts.kept += 1
            yield example, batch.split
