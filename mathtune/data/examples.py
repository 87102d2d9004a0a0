"""Raw OpenR1 rows → prepared training examples, or the reason a row is dropped.

A prepared example (one row of data/prepared/*.parquet, PREPARED_SCHEMA order):

    Example(uuid="1f0c...", problem="Tom has 23 apples ...", answer="38",
            target="Step 1: ... The answer is $\\boxed{38}$.", problem_type="Algebra",
            question_type="math-word-problem", source="synthetic/sum_items",
            family="sum_items", gradable=True)

The family names a group of similar problems, so whole groups can be held out of training:
the curriculum's own family for synthetic rows (`source` = `synthetic/<family>`), and
OpenR1's subject (`problem_type`: Algebra, Geometry, Number Theory, ...) for any other row.
A row is gradable when its answer is one a checker can compare: proofs and placeholder
answers such as "notfound" can be trained on but never scored.

Rows are dropped, never silently: every reason in DROP_REASONS is counted by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from mathtune.core.errors import MathtuneError
from mathtune.core.schema import METADATA_COLUMNS, Target
from mathtune.curriculum.rows import SOURCE_PREFIX
from mathtune.data.sources import RowBatch

DROP_REASONS = (
    "non_string_field",  # a text column holds a number, list, ... instead of a string
    "missing_uuid",  # no uuid: the split hash and de-duplication need one
    "missing_problem",
    "missing_answer",
    "missing_target",  # empty solution, or (target: trace) no correct, complete trace
    "duplicate_uuid",  # a uuid already kept; the first usable row wins
)
TEXT_COLUMNS = ("uuid", "problem", "answer", "solution", *METADATA_COLUMNS)
# Answers OpenR1 gives where there is nothing to compare: proof questions, and placeholders
# for problems whose answer was not found or does not exist. Compared in lower case.
UNGRADABLE_ANSWERS = frozenset({"proof", "notfound", "not found", "-", "--", "—", "?"})
UNKNOWN_FAMILY = "unknown"


class DataError(MathtuneError):
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
    family: str
    gradable: bool


def family_of(source: str, problem_type: str) -> str:
    """The curriculum family of a synthetic row, else the row's subject.

    >>> family_of("synthetic/addition", "Algebra"), family_of("olympiads", "Number Theory")
    ('addition', 'Number Theory')
    >>> family_of("olympiads", "")
    'unknown'
    """
    family = source.removeprefix(SOURCE_PREFIX) if source.startswith(SOURCE_PREFIX) else ""
    return family or problem_type.strip() or UNKNOWN_FAMILY


def is_gradable(answer: str, question_type: str) -> bool:
    """Whether an answer can be scored: not a proof, not a placeholder.

    >>> is_gradable("38", "math-word-problem"), is_gradable("notfound", "math-word-problem")
    (True, False)
    >>> is_gradable("$x=2$", "proof"), is_gradable(" Proof ", "math-word-problem")
    (False, False)
    """
    text = answer.strip().strip("$").strip().lower()
    return question_type.strip().lower() != "proof" and text not in UNGRADABLE_ANSWERS


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
    family = family_of(labels["source"], labels["problem_type"])
    gradable = is_gradable(row["answer"], labels["question_type"])
    return Example(
        row["uuid"], row["problem"], row["answer"], text, **labels, family=family, gradable=gradable
    )


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


def read_examples(
    batches: Iterable[RowBatch], target: Target, max_rows: int | None
) -> Iterator[tuple[Example | str, str | None]]:
    """Each row read, in source order, as an Example or its drop reason, with its source split.

    A uuid seen before is "duplicate_uuid" (the first usable row wins). Stops once `max_rows`
    examples have been yielded.
    """
    seen: set[str] = set()
    for batch in batches:
        for row in batch.rows:
            if max_rows is not None and len(seen) >= max_rows:
                return
            example = build_example(row, target)
            if isinstance(example, Example):
                if example.uuid in seen:
                    example = "duplicate_uuid"
                else:
                    seen.add(example.uuid)
            yield example, batch.split
