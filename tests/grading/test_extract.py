"""Tests for mathtune.answers: every extraction strategy, from the shared case table."""

from __future__ import annotations

import doctest
import time

import pytest
from answer_cases import EXTRACTION_CASES, flatten
from hypothesis import given, settings
from hypothesis import strategies as st

import mathtune.answers
from mathtune.answers import STRATEGIES, ExtractedAnswer, extract_answer

ROWS = flatten(EXTRACTION_CASES)


@pytest.mark.parametrize(("group", "completion", "text", "strategy"), ROWS)
def test_extraction_case(group, completion, text, strategy):
    found = extract_answer(completion)
    got = (found.text, found.strategy) if found else (None, None)
    assert got == (text, strategy), group


def test_case_table_exercises_every_strategy():
    assert {strategy for *_, strategy in ROWS} - {None} == set(STRATEGIES)


def test_extracted_answer_is_frozen():
    found = ExtractedAnswer("4", "boxed")
    with pytest.raises(AttributeError):
        found.text = "5"


@pytest.mark.parametrize("value", [None, 42, b"\\boxed{1}", ["\\boxed{1}"]])
def test_non_string_input_gives_none(value):
    assert extract_answer(value) is None


def test_answer_after_long_reasoning_is_found_quickly():
    completion = "<think>" + "Let me check. " * 20_000 + "</think>" + "filler " * 10_000
    start = time.perf_counter()
    found = extract_answer(completion + r"So \boxed{17}.")
    assert found == ExtractedAnswer("17", "boxed")
    assert time.perf_counter() - start < 1.0  # the per-call bound; typical is ~5 ms


TOKENS = ["\\boxed{", "\\fbox{", "{", "}", "$", "$$", "\\(", "\\)", "\\[", "\\]", "<think>"]
TOKENS += ["</think>", "<answer>", "</answer>", "The answer is ", "x = ", "\n", "1", ", "]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)))
def test_never_raises_and_returns_a_known_strategy(text):
    found = extract_answer(text)
    assert found is None or (found.strategy in STRATEGIES and found.text)


def test_docstring_examples_run():
    assert doctest.testmod(mathtune.answers).failed == 0
