import doctest
import io
import re

import pyarrow.parquet as pq

import mathtune.curriculum.rows
from mathtune.core.schema import OPENR1_SCHEMA
from mathtune.curriculum.registry import FAMILIES, FAMILY_NAMES
from mathtune.curriculum.rows import SOURCE_PREFIX, generate_row, generate_table

# One full cycle of families, twice over.
ROWS = [generate_row(seed=0, index=index) for index in range(2 * len(FAMILIES) * 10)]


def last_boxed(text: str) -> str:
    """Content of the last \\boxed{...}, braces balanced."""
    start = text.rindex("\\boxed{") + len("\\boxed{")
    depth, end = 1, start
    while depth:
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        end += 1
    return text[start : end - 1]


def test_doctests_pass():
    assert doctest.testmod(mathtune.curriculum.rows).failed == 0


def test_schema_equals_openr1_schema_also_after_parquet():
    table = generate_table(count=30, seed=1)
    assert table.schema == OPENR1_SCHEMA
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    assert pq.read_table(buffer).schema.names == OPENR1_SCHEMA.names


def test_same_seed_same_rows_and_rows_do_not_shift_with_count():
    assert generate_table(5, seed=3) == generate_table(12, seed=3).slice(0, 5)
    assert generate_table(4, seed=3, start=8) == generate_table(12, seed=3).slice(8, 4)
    assert generate_row(3, 7) != generate_row(4, 7)


def test_rows_cycle_through_the_families_and_name_them_in_source():
    sources = [row["source"] for row in ROWS[: 2 * len(FAMILIES)]]
    assert sources == [SOURCE_PREFIX + name for name in FAMILY_NAMES] * 2


def test_uuids_are_unique():
    uuids = [row["uuid"] for row in ROWS]
    assert len(set(uuids)) == len(uuids)


def test_solution_and_correct_traces_box_exactly_the_answer():
    for row in ROWS:
        assert last_boxed(row["solution"]) == row["answer"], row["problem"]
        for text, correct in zip(row["generations"], row["correctness_math_verify"], strict=True):
            if correct:
                assert last_boxed(text) == row["answer"]
                assert text.startswith("<think>\n") and "\n</think>\n\n" in text
            else:
                assert "\\boxed" not in text


def test_answer_shapes_cover_what_rewards_must_handle():
    answers = [row["answer"] for row in ROWS]
    shapes = {
        "integer": r"\d+",
        "negative": r"-\d+",
        "fraction": r"\\frac\{\d+\}\{\d+\}",
        "decimal": r"\d+\.\d+",
        "percent": r"\d+\\%",
        "several values": r"-?\d+, -?\d+",
        "assignments": r"x=-?\d+, y=-?\d+",
        "variable": r"v_\{R\}=\d+",
        "unit": r"\d+\\mathrm\{~cm\}(\^\{2\})?",
        "choice": r"[A-E]",
    }
    for shape, pattern in shapes.items():
        assert any(re.fullmatch(pattern, answer) for answer in answers), shape


def test_trace_columns_are_consistent():
    patterns = set()
    for row in ROWS:
        verified = row["correctness_math_verify"]
        patterns.add(tuple(verified))
        assert row["correctness_count"] == sum(verified)
        first = verified.index(True)
        assert row["is_reasoning_complete"][first] is True
        assert row["messages"] == [
            {"content": row["problem"], "role": "user"},
            {"content": row["generations"][first], "role": "assistant"},
        ]
        for complete, reason in zip(
            row["is_reasoning_complete"], row["finish_reasons"], strict=True
        ):
            assert reason == ("stop" if complete else "length")
        assert row["correctness_llama"] in (None, verified)
    assert {(True, True), (False, True)} <= patterns
    assert any(False in row["is_reasoning_complete"] for row in ROWS)


def test_multiple_choice_rows_are_marked_mcq():
    for row in ROWS:
        is_letter = re.fullmatch(r"[A-E]", row["answer"]) is not None
        assert (row["question_type"] == "MCQ") == is_letter
        assert row["problem_type"] in {"Algebra", "Geometry", "Combinatorics", "Number Theory"}
