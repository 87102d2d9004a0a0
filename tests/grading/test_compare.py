"""Tests for mathtune.grading.compare: in-process verdicts and math-verify's, with our fixes."""

from __future__ import annotations

import doctest

import pytest

import mathtune.grading.compare
from mathtune.grading.compare import answers_equal, compare_plain

PLAIN = [
    ("4", "4", True),
    ("4.0", "4", True),
    ("0.5", r"\frac{1}{2}", True),
    ("3/4", r"\dfrac{3}{4}", True),
    ("0.333333", r"\frac{1}{3}", True),  # six places, as math-verify rounds
    ("0.333", r"\frac{1}{3}", False),
    ("10,455", "10455", True),
    ("25%", "0.25", True),
    ("-4", "4", False),
    ("x+1", "1+x", None),  # not plain: math-verify decides
    ("1,22", "1.22", True),  # read as 1.22 or as the list 1, 22: both plain
    ("1" * 200, "1" * 199 + "2", None),  # too long to read as a number here
    ("x + 1", "x+1", True),  # written alike, spaces aside: decided without math-verify
    (r"\left( 1, 2 \right)", "(1,2)", True),
    ("3, 1, 2", "1, 2, 3", True),  # bare lists of numbers: equal as multisets
    ("0.5, 2", r"2, \frac{1}{2}", True),
    ("2, 2", "2", False),
    ("1, 2, 3", "1, 2, 4", False),
    ("10, 4, 2", "4, 12, 2", False),
    ("1, 2, 3, ...", "1, 2, 3", False),  # a list that goes on is not the finite one
    ("No answer", "45", False),  # words and no digit are no number
    ("e", "2.718282", None),  # a constant: math-verify decides
]


@pytest.mark.parametrize(("predicted", "gold", "verdict"), PLAIN)
def test_compare_plain(predicted, gold, verdict):
    assert compare_plain(predicted, gold) is verdict


@pytest.mark.parametrize(
    ("predicted", "gold", "equal"),
    [
        ("(x+1)^2", "x^2+2x+1", True),
        (r"\{1, 2\}", "(1, 2)", False),  # a set is not an interval, which math-verify equates
        (r"\{(1,2),(3,4)\}", "(3,4),(1,2)", True),
        (r"\begin{pmatrix}a&b\\c&d\end{pmatrix}", r"\begin{bmatrix}a&b\\c&d\end{bmatrix}", True),
        ("10, 4, 2", "4, 12, 2", False),  # boxed, math-verify reads the whole list
        ("2, -1", "x=2, y=-1", True),  # bare values take the names in order
        ("-1, 2", "x=2, y=-1", False),
        ("x=2, y=-1", "(2, -1)", True),
        ("y=-1, x=2", "x=2, y=-1", True),  # both named: math-verify matches the names
        ("x" * 1001, "x" * 1001, True),  # past MAX_ANSWER_CHARS: exact strings only
        ("x" * 1001, "y" * 1001, False),
        (r"1, 2, 3, \ldots", "1, 2, 3", False),
        ("2*sqrt(2)", r"\sqrt{8}", True),  # math typed as code
    ],
)
def test_answers_equal(predicted, gold, equal):
    assert answers_equal(predicted, gold) is equal


def test_docstring_examples_run():
    assert doctest.testmod(mathtune.grading.compare).failed == 0
