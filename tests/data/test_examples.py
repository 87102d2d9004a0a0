import doctest

import pytest

import mathtune.data.examples
from mathtune.data.examples import (
    DROP_REASONS,
    Example,
    build_example,
    family_of,
    is_gradable,
    read_examples,
    select_trace,
)
from mathtune.data.sources import RowBatch

ROW = {
    "uuid": "u1",
    "problem": "What is 2 + 3?",
    "solution": "Step 1: $2 + 3 = 5$.\nThe answer is $\\boxed{5}$.",
    "answer": "5",
    "problem_type": "Algebra",
    "question_type": "math-word-problem",
    "source": "olympiads",
    "generations": [
        "<think>\nguess\n</think>\n\n4",
        "<think>\n2 + 3 = 5\n</think>\n\n$\\boxed{5}$",
    ],
    "correctness_math_verify": [False, True],
    "is_reasoning_complete": [True, True],
}


def test_doctests_pass():
    assert doctest.testmod(mathtune.data.examples).failed == 0


def test_usable_row_becomes_an_example_for_each_target():
    assert build_example(ROW, "solution") == Example(
        "u1",
        ROW["problem"],
        "5",
        ROW["solution"],
        "Algebra",
        "math-word-problem",
        "olympiads",
        family="Algebra",
        gradable=True,
    )
    assert build_example(ROW, "trace").target == ROW["generations"][1]


@pytest.mark.parametrize(
    ("change", "target", "reason"),
    [
        ({"problem": None}, "solution", "missing_problem"),  # null
        ({"problem": ""}, "solution", "missing_problem"),  # empty
        ({"answer": " \n"}, "solution", "missing_answer"),  # whitespace only
        ({"answer": None}, "solution", "missing_answer"),
        ({"uuid": ""}, "solution", "missing_uuid"),
        ({"solution": ""}, "solution", "missing_target"),  # empty written solution
        ({"solution": None}, "solution", "missing_target"),
        ({"answer": 5}, "solution", "non_string_field"),  # a number where text belongs
        ({"problem": ["a"]}, "solution", "non_string_field"),
        ({"source": 3}, "solution", "non_string_field"),
        ({"generations": "<think>x</think>"}, "trace", "non_string_field"),  # not a list
        ({"generations": [1, 2]}, "trace", "non_string_field"),
        ({"correctness_math_verify": [False, False]}, "trace", "missing_target"),  # none correct
        ({"is_reasoning_complete": [True, False]}, "trace", "missing_target"),  # correct but cut
        ({"generations": None}, "trace", "missing_target"),
        ({"correctness_math_verify": None}, "trace", "missing_target"),
        ({"generations": ["", "  "]}, "trace", "missing_target"),
    ],
)
def test_unusable_rows_give_their_drop_reason(change, target, reason):
    assert reason in DROP_REASONS
    assert build_example({**ROW, **change}, target) == reason


def test_trace_rows_ignore_a_broken_solution_and_vice_versa():
    assert build_example({**ROW, "solution": ""}, "trace").target == ROW["generations"][1]
    assert build_example({**ROW, "solution": 3}, "trace").target == ROW["generations"][1]
    assert build_example({**ROW, "generations": 7}, "solution").target == ROW["solution"]


def test_null_metadata_becomes_empty_text():
    example = build_example({**ROW, "problem_type": None, "source": None}, "solution")
    assert (example.problem_type, example.source) == ("", "")


def test_select_trace_takes_the_first_correct_complete_one():
    texts = ["a", "b", "c"]
    assert select_trace(texts, [True, True, True], [False, True, True]) == "b"
    assert select_trace(texts, [False, True, True], [True, True, True]) == "b"
    assert select_trace(texts, [True], [True, True, True]) == "a"  # unequal lengths
    assert select_trace(texts, [None, 1, True], [True, True, True]) == "c"  # only True counts


def batches_of(*rows_per_batch: list[dict], split: str | None = None) -> list[RowBatch]:
    return [RowBatch(list(rows), split) for rows in rows_per_batch]


def test_duplicates_keep_the_first_usable_row_and_every_row_gives_an_outcome():
    rows = [
        {**ROW, "uuid": "a", "answer": ""},  # dropped: its uuid stays free
        {**ROW, "uuid": "a", "problem": "first usable"},
        {**ROW, "uuid": "a", "problem": "duplicate"},
        {**ROW, "uuid": "b"},
    ]
    outcomes = [
        outcome for outcome, _ in read_examples(batches_of(rows[:2], rows[2:]), "solution", None)
    ]
    assert outcomes[0] == "missing_answer" and outcomes[2] == "duplicate_uuid"
    assert [(example.uuid, example.problem) for example in (outcomes[1], outcomes[3])] == [
        ("a", "first usable"),
        ("b", ROW["problem"]),
    ]


def test_max_rows_keeps_the_first_usable_rows_and_stops_reading():
    rows = [{**ROW, "uuid": str(i), "answer": "" if i == 1 else "5"} for i in range(10)]
    outcomes = [
        outcome for outcome, _ in read_examples(batches_of(rows[:4], rows[4:]), "solution", 3)
    ]
    assert [getattr(outcome, "uuid", outcome) for outcome in outcomes] == [
        "0",
        "missing_answer",
        "2",
        "3",
    ]


def test_source_split_travels_with_each_example():
    batches = batches_of([{**ROW, "uuid": "t"}], split="train")
    batches += batches_of([{**ROW, "uuid": "v"}], split="validation")
    assert [split for _, split in read_examples(batches, "solution", None)] == [
        "train",
        "validation",
    ]


@pytest.mark.parametrize(
    ("source", "problem_type", "family"),
    [
        ("synthetic/percent_of", "Algebra", "percent_of"),  # curriculum: its own family
        ("olympiads", "Number Theory", "Number Theory"),  # OpenR1: the subject
        ("synthetic", "Geometry", "Geometry"),  # not the curriculum's prefix: a plain source
        ("synthetic/", "Geometry", "Geometry"),  # the prefix without a family
        ("cn_contest", "  ", "unknown"),
    ],
)
def test_family_comes_from_the_curriculum_source_else_the_subject(source, problem_type, family):
    assert family_of(source, problem_type) == family
    row = {**ROW, "source": source, "problem_type": problem_type}
    assert build_example(row, "solution").family == family


@pytest.mark.parametrize(
    ("answer", "question_type", "gradable"),
    [
        ("38", "math-word-problem", True),
        ("\\frac{1}{2}", "MCQ", True),
        ("proof", "math-word-problem", False),  # OpenR1's answer to proof questions
        ("Proof", "math-word-problem", False),
        ("notfound", "math-word-problem", False),
        ("$-$", "math-word-problem", False),  # a dash in math mode
        ("-", "cloze", False),
        ("x = 2", "proof", False),  # a proof question whatever its answer says
        ("-2", "math-word-problem", True),  # a negative number is not a dash
    ],
)
def test_gradable_rows_are_those_a_checker_can_score(answer, question_type, gradable):
    assert is_gradable(answer, question_type) is gradable
    row = {**ROW, "answer": answer, "question_type": question_type}
    assert build_example(row, "solution").gradable is gradable
