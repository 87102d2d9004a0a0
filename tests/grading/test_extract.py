"""Tests for mathtune.grading.extract: every extraction strategy, from the shared case table."""

from __future__ import annotations

import doctest
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mathtune.grading.extract
from grading_cases import EXTRACTION_CASES, flatten
from mathtune.grading.extract import STRATEGIES, Extracted, extract_answer, extract_gold

ROWS = flatten(EXTRACTION_CASES)


@pytest.mark.parametrize(("group", "completion", "text", "strategy"), ROWS)
def test_extraction_case(group, completion, text, strategy):
    found = extract_answer(completion)
    got = (found.text, found.strategy) if found else (None, None)
    assert got == (text, strategy), group


def test_case_table_exercises_every_strategy():
    assert {strategy for *_, strategy in ROWS} - {None} == set(STRATEGIES)


def test_only_the_boxed_strategy_counts_as_boxed():
    for _, completion, _, strategy in ROWS:
        found = extract_answer(completion)
        if found is not None:
            assert found.boxed == (strategy == "boxed"), completion


@pytest.mark.parametrize("value", [None, 42, b"\\boxed{1}", ["\\boxed{1}"]])
def test_non_string_input_gives_none(value):
    assert extract_answer(value) is None


def test_answer_after_long_reasoning_is_found_quickly():
    completion = "<think>" + "Let me check. " * 20_000 + "</think>" + "filler " * 10_000
    start = time.perf_counter()
    found = extract_answer(completion + r"So \boxed{17}.")
    assert found == Extracted("17", "boxed", boxed=True)
    assert time.perf_counter() - start < 1.0  # the per-call bound; typical is ~5 ms


TOKENS = ["\\boxed{", "\\fbox{", "{", "}", "$", "$$", "\\(", "\\)", "\\[", "\\]", "<think>"]
TOKENS += ["</think>", "<answer>", "</answer>", "The answer is ", "x = ", "\n", "1", ", "]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)))
def test_never_raises_and_returns_a_known_strategy(text):
    found = extract_answer(text)
    assert found is None or (found.strategy in STRATEGIES and found.text)


def test_docstring_examples_run():
    assert doctest.testmod(mathtune.grading.extract).failed == 0


@pytest.mark.parametrize(
    ("gold", "expected"),
    [
        ("38", "38"),  # bare, as OpenR1-Math-220k stores it
        (r"$\frac{1}{2}$", r"\frac{1}{2}"),  # wrapped in math delimiters
        (r"\(x = 2\)", "x = 2"),
        ("$2$ and $3$", "$2$ and $3$"),  # two spans: compared whole
        (r"So the perimeter is $4 \cdot 3 = \boxed{12}$.", "12"),  # worked solution, boxed
        ("We add the parts.\nThe total is therefore 17.", "17"),  # worked, final sentence
        ("Adding the two numbers gives 3 + 4 = 7, and so the sum is 7.", "7"),
        (r"x \in (2,12)\cup(12,102)", r"x \in (2,12)\cup(12,102)"),  # commands are not words
        ("12 apples", "12"),  # a gold that carries words: the value it states
        ("It takes 3 hours.", "3"),
        (r"$\frac{1}{2}$ of the pizza", r"\frac{1}{2}"),
        ("Tuesday", "Tuesday"),  # words and no value: the words
        ("", None),
        (None, None),
        (float("nan"), None),
    ],
)
def test_gold_answers_as_they_come(gold, expected):
    assert extract_gold(gold) == expected
