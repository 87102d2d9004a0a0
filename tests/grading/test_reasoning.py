"""Tests for mathtune.grading.reasoning: the step-by-step score and its documented rules."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mathtune.grading.reasoning
from mathtune.grading.reasoning import TARGET_EQUATIONS, TARGET_STEPS, score_reasoning

SCORES = [
    # no steps, no equations
    ("", 0.0),
    ("The answer is 10.", 0.0),
    ("The answer is 10.\nThe answer is 10.", 0.0),
    # equations only: 0.5 * min(equations / 2, 1)
    ("2 + 3 = 5", 0.25),
    ("We get 2 + 3 = 5 and 5 * 2 = 10 on one line", 0.25),
    ("Here 2 + 3 = 5.\nHere 5 * 2 = 10.", 0.5),
    (r"It gives $\frac{1}{2} \approx 0.5$ here", 0.25),
    # steps only: 0.5 * min(steps / 3, 1)
    ("First, read the problem.", 1 / 6),
    ("1. Read.\n2. Think.", 2 / 6),
    ("- read\n- think\n- write\n- check", 0.5),
    ("Step 1: read. Step 2: think. Then write. So done.", 0.5),
    # both
    ("Step 1: 2 + 3 = 5.\nStep 2: 5 * 2 = 10.\nSo the answer is 10.", 1.0),
    ("<think>First, 2 + 3 = 5. Then 5 * 2 = 10. So 10.</think> \\boxed{10}", 1.0),
    # not steps or equations
    ("Additionally we note this.", 0.0),
    ("x == y and a <= b", 0.0),
    ("2.5 is the value", 0.0),
]


@pytest.mark.parametrize(("text", "score"), SCORES)
def test_score_reasoning(text, score):
    assert score_reasoning(text) == pytest.approx(score)


def test_repeating_a_step_does_not_raise_the_score():
    step = "So 2 + 3 = 5.\n"
    assert score_reasoning(step * 50) == score_reasoning(step)


def test_targets_cap_each_half():
    many = "\n".join(f"Step {i}: {i} + 1 = {i + 1}" for i in range(20))
    assert score_reasoning(many) == 1.0
    assert TARGET_STEPS >= 1 and TARGET_EQUATIONS >= 1


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(), st.lists(st.sampled_from(["Step 1", "=", "\n", ". So ", "x"])).map("".join)
    )
)
def test_score_is_in_unit_interval_and_never_raises(text):
    assert 0.0 <= score_reasoning(text) <= 1.0


@pytest.mark.parametrize("value", [None, 3, ["Step 1: 1 = 1"]])
def test_non_text_scores_zero(value):
    assert score_reasoning(value) == 0.0


def test_docstring_examples_run():
    assert doctest.testmod(mathtune.grading.reasoning).failed == 0
