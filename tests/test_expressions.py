"""Tests for mathtune.expressions: the bounded LaTeX expression parser."""

from __future__ import annotations

import doctest
import time
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mathtune.expressions
from mathtune.expressions import MAX_NESTING, MAX_TOKENS, parse_expression

ONE, TWO = ("num", Fraction(1), False), ("num", Fraction(2), False)
X = ("sym", "x")
TREES = [
    ("x+1", ("add", X, ONE)),
    ("2x", ("mul", TWO, X)),
    (r"\frac12", ("div", ONE, TWO)),
    (r"\sqrt[3]{x}", ("root", X, ("num", Fraction(3), False))),
    ("x^{-1}", ("pow", X, ("neg", ONE))),
    ("-x!", ("neg", ("fact", X))),
    ("|x|", ("abs", X)),
    ("v_{R}", ("sym", "v_R")),
    (r"\alpha", ("sym", "\\alpha")),
    (r"\log_2 x", ("func", "log", X, TWO)),
    (r"\sin^{-1} x", ("func", "arcsin", X, None)),
    (r"\sin^2 x", ("pow", ("func", "sin", X, None), TWO)),
    (r"\sin 2x", ("func", "sin", ("mul", TWO, X), None)),
    ("e^x", ("pow", ("const", "e"), X)),
    (r"\left(x\right)", X),
    ("1.5", ("num", Fraction(3, 2), True)),
]


@pytest.mark.parametrize(("text", "tree"), TREES)
def test_parse_expression_tree(text, tree):
    assert parse_expression(text) == tree


REFUSED = [
    "",
    "2 3",  # digits never multiply implicitly
    "x^x^x",  # a double superscript is not LaTeX
    "x=1",  # relations are split off before parsing
    r"\{1, 2\}",
    r"\int_0^1 x dx",
    "(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1),
    "+".join(["1"] * MAX_TOKENS),
    "9" * 401,
    "(1",
    "x+",
]


@pytest.mark.parametrize("text", REFUSED)
def test_unsupported_input_is_refused(text):
    assert parse_expression(text) is None


TOKENS = ["\\frac", "\\sqrt", "{", "}", "(", ")", "[", "]", "^", "_", "!", "|", "x", "2", "-"]
TOKENS += ["\\sin", "\\log", "\\pi", " ", "e", ".5", "\\left(", "\\right)", "\\cdot", "+"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=400).map("".join))
def test_parsing_never_raises_and_is_fast(text):
    start = time.perf_counter()
    parse_expression(text)
    assert time.perf_counter() - start < 1.0  # the per-call bound; typical is ~0.1 ms


def test_docstring_examples_run():
    assert doctest.testmod(mathtune.expressions).failed == 0
