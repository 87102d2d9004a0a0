import doctest

import pytest

import mathtune.examples
from mathtune.examples import (
    DROP_REASONS,
    DataError,
    Example,
    ExampleCounts,
    build_example,
    iter_examples,
    select_trace,
)
from mathtune.sources import RowBatch

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
    assert doctest.testmod(mathtune.examples).failed == 0


def test_usable_row_becomes_an_example_for_each_target():
    assert build_example(ROW, "solution") == Example(
        "u1", ROW["problem"], "5", ROW["solution"], "Algebra", "math-word-problem", "olympiads"
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


def test_duplicates_keep_the_first_usable_row_and_all_drops_are_counted():
    rows = [
        {**ROW, "uuid": "a", "answer": ""},  # dropped: its uuid stays free
        {**ROW, "uuid": "a", "problem": "first usable"},
        {**ROW, "uuid": "a", "problem": "duplicate"},
        {**ROW, "uuid": "b"},
    ]
    counts = ExampleCounts()
    kept = list(iter_examples(batches_of(rows[:2], rows[2:]), "solution", None, counts))
    assert [(example.uuid, example.problem) for example, _ in kept] == [
        ("a", "first usable"),
        ("b", ROW["problem"]),
    ]
    assert counts.rows_read == 4 and counts.kept == 2
    assert counts.dropped == dict.fromkeys(DROP_REASONS, 0) | {
        "missing_answer": 1,
        "duplicate_uuid": 1,
    }


def test_max_rows_keeps_the_first_usable_rows_and_stops_reading():
    rows = [{**ROW, "uuid": str(i), "answer": "" if i == 1 else "5"} for i in range(10)]
    counts = ExampleCounts()
    kept = list(iter_examples(batches_of(rows[:4], rows[4:]), "solution", 3, counts))
    assert [example.uuid for example, _ in kept] == ["0", "2", "3"]
    assert (counts.rows_read, counts.kept, counts.dropped["missing_answer"]) == (4, 3, 1)


def test_source_split_travels_with_each_example():
    batches = batches_of([{**ROW, "uuid": "t"}], split="train")
    batches += batches_of([{**ROW, "uuid": "v"}], split="validation")
    kept = list(iter_examples(batches, "solution", None, ExampleCounts()))
    assert [split for _, split in kept] == ["train", "validation"]


def test_all_rows_dropped_is_an_error_that_names_the_reasons():
    rows = [{**ROW, "uuid": str(i), "correctness_math_verify": [False, False]} for i in range(3)]
    with pytest.raises(DataError) as caught:
        list(iter_examples(batches_of(rows), "trace", None, ExampleCounts()))
    assert "all 3 rows" in str(caught.value)
    assert "'missing_target': 3" in str(caught.value)
    assert "prepare.target" in str(caught.value)
