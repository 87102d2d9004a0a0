"""Tests for mathtune.values: exact where cheap, bounded everywhere."""

from __future__ import annotations

import doctest
import time
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mathtune.values
from mathtune.values import SAMPLE_POINTS, evaluate_expression

EXACT = [
    ("2^{10}", Fraction(1024)),
    ("2^{100}+1", Fraction(2**100 + 1)),
    (r"\frac{1}{3}+\frac{1}{6}", Fraction(1, 2)),
    (r"\sqrt{4}", Fraction(2)),
    (r"\sqrt{\frac{9}{4}}", Fraction(3, 2)),
    (r"\sqrt[3]{-8}", Fraction(-2)),
    ("8^{2/3}", Fraction(4)),
    ("5!", Fraction(120)),
    (r"\binom{10}{3}", Fraction(120)),
    (r"\lfloor 2.5 \rfloor", Fraction(2)),
    ("|-3|", Fraction(3)),
]


@pytest.mark.parametrize(("text", "value"), EXACT)
def test_rational_results_are_exact(text, value):
    assert evaluate_expression(text).samples == (value,)


APPROXIMATE = [
    (r"\sqrt{2}", 2**0.5),
    (r"\frac{\pi}{2}", 1.5707963267948966),
    (r"\log_2 8", 3.0),
    (r"\ln e", 1.0),
    (r"\sin\frac{\pi}{6}", 0.5),
    ("e^{2}", 7.38905609893065),
    ("(1.5)!", 1.329340388179137),
]


@pytest.mark.parametrize(("text", "value"), APPROXIMATE)
def test_irrational_results_are_close(text, value):
    (sample,) = evaluate_expression(text).samples
    assert abs(sample - value) < 1e-12


@pytest.mark.parametrize(
    "text",
    ["1/0", "0^{-1}", r"\log_1 5", r"\ln 0", "10^{10^{10}}", r"\sin(10^{10^{10}})", "(-1)!"],
)
def test_undefined_values_are_none(text):
    assert evaluate_expression(text) is None


def test_identities_agree_at_every_sample_point():
    assert evaluate_expression("(x+1)^2") == evaluate_expression("x^2+2x+1")
    assert evaluate_expression("x+y") == evaluate_expression("y+x")
    assert evaluate_expression("|x|") != evaluate_expression("x")  # one point is negative
    assert len(evaluate_expression("x").samples) == SAMPLE_POINTS


def test_decimals_mark_a_value_as_rounded():
    assert evaluate_expression("1.5x").rounded
    assert not evaluate_expression(r"\frac{3}{2}x").rounded


TOKENS = ["10^{", "x^{", "}", "\\frac{", "}{", "\\sqrt{", "!", "\\sin(", ")", "9", "x", "-"]
TOKENS += ["\\binom{", "\\log_{", "e^{", "2.5", "+", "*", "|"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=60).map("".join))
def test_evaluation_never_raises_and_is_fast(text):
    start = time.perf_counter()
    evaluate_expression(text)
    assert time.perf_counter() - start < 1.0  # the per-call bound; typical is ~0.1 ms


def test_docstring_examples_run():
    assert doctest.testmod(mathtune.values).failed == 0
