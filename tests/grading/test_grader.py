"""Tests for mathtune.grading.grader: one Grade per completion, on the whole case table."""

from __future__ import annotations

import doctest
from concurrent.futures import ThreadPoolExecutor

import pytest

import mathtune.grading.grader
from grading_cases import CLASS_CASES, COMPLETION_CASES, EQUIVALENCE_CASES, flatten
from mathtune.grading.grader import Grade, grade_completion, grade_completions

ROWS = flatten(CLASS_CASES) + flatten(EQUIVALENCE_CASES) + flatten(COMPLETION_CASES)
# Cases the grader gets wrong today, each with the reason; strict, so a fix must remove it.
KNOWN_WRONG = {
    ("\\sqrt[3]{-8}", "-2"): "sympy's cube root of -8 is the complex principal root",
    ("2x", "x2"): "math-verify reads x2 as the product x*2",
    ("3.14159", "\\pi"): "math-verify rounds to 6 places, and 3.14159 has only 5",
    ("}" * 50 + "4", "4"): "unbalanced braces make the answer unparseable",
}

# Groups written to be slow; a time-out there is the CPU budget doing its job.
ADVERSARIAL = {
    "huge and adversarial values stay comparable",
    "garbage never crashes and never matches",
}


@pytest.fixture(scope="module")
def table_grades() -> dict[tuple[str, str], Grade]:
    """The whole table graded in one batch, as evaluation grades a model's answers."""
    grades = grade_completions([row[1] for row in ROWS], [row[2] for row in ROWS])
    return {(row[1], row[2]): grade for row, grade in zip(ROWS, grades, strict=True)}


def case_params() -> list:
    """The table's rows, a known-wrong one marked strict xfail: fixing it fails the test
    until its KNOWN_WRONG entry goes."""
    return [
        pytest.param(*row, marks=pytest.mark.xfail(strict=True, reason=KNOWN_WRONG[row[1:3]]))
        if row[1:3] in KNOWN_WRONG
        else row
        for row in ROWS
    ]


@pytest.mark.parametrize(("group", "completion", "gold", "label"), case_params())
def test_case_table(table_grades, group, completion, gold, label):
    grade = table_grades[completion, gold]
    assert grade.correct is label, group
    assert not grade.timed_out or group in ADVERSARIAL, "an ordinary case ran past its budget"
    assert not grade.machinery_failure, "the worker pool failed"


def test_known_wrong_cases_are_in_the_table():
    assert set(KNOWN_WRONG) <= {(row[1], row[2]) for row in ROWS}


def test_one_grade_holds_extraction_format_and_verdict():
    grade = grade_completion("<think>maybe 3</think>\nSo $x = \\boxed{\\frac{1}{2}}$.", "0.5")
    assert grade == Grade(r"\frac{1}{2}", "boxed", boxed=True, correct=True, timed_out=False)
    unboxed = grade_completion("The answer is 0.5.", "$\\frac{1}{2}$")
    assert (unboxed.strategy, unboxed.boxed, unboxed.correct) == ("answer_phrase", False, True)


@pytest.mark.parametrize(
    ("completion", "gold"),
    [("", "4"), ("<think>only thinking</think>", "4"), ("4", None), ("4", ""), (None, "4")],
)
def test_nothing_to_compare_is_incorrect_without_a_time_out(completion, gold):
    grade = grade_completion(completion, gold)
    assert not grade.correct and not grade.timed_out


def test_batch_needs_one_gold_per_completion():
    with pytest.raises(ValueError, match="2 completions but 1 gold answers"):
        grade_completions(["1", "2"], ["1"])


def test_grading_from_16_threads_answers_every_call():
    cases = [(f"\\boxed{{(x+{i})^2}}", f"x^2+{2 * i}x+{i * i}") for i in range(48)]
    with ThreadPoolExecutor(max_workers=16) as threads:
        grades = list(threads.map(lambda case: grade_completion(*case), cases))
    assert [grade.correct for grade in grades] == [True] * len(cases)


def test_docstring_examples_run():
    assert doctest.testmod(mathtune.grading.grader).failed == 0
