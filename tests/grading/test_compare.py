"""Tests for mathtune.grading.compare: rewrites before math-verify, in-process verdicts."""

from __future__ import annotations

import doctest

import pytest

import mathtune.grading.compare
from mathtune.grading.compare import answer_readings, answers_equal, compare_plain

READINGS = [
    ("1 000", ["1000"]),  # thousands with a space: math-verify reads a product
    (r"10\ 000", ["10000"]),
    (r"11,\! 111,\! 100", ["11111100"]),
    ("1,22", ["1.22", "1,22"]),  # a decimal comma, or a list
    ("2{,}5", ["2.5", "2{,}5"]),
    ("10,455", ["10,455"]),  # a group of three is thousands: math-verify reads that right
    (r"\$10", ["10"]),
    ("1,000.99€", ["1,000.99"]),
    ("12m²", ["12"]),  # a glued unit, "²" as "^2"
    ("v = 4 m/s", ["v = 4"]),
    ("25%", ["25", r"\frac{25}{100}"]),
    (r"30^\circ", ["30", r"\frac{30\pi}{180}"]),
    ("1.5e3", [r"1.5\times 10^{3}"]),
    ("2 1/2", [r"2\frac{1}{2}"]),
    (r"x \in [-2, 7]", ["[-2, 7]"]),
    (r"\langle 1, 2 \rangle", ["(1, 2)"]),
    (r"\mathrm{e}^2", ["e^2"]),
    (r"2 \quad 3", ["2, 3"]),
    (
        r"\left[\begin{array}{cc}a&b\\c&d\end{array}\right]",
        [r"\begin{bmatrix}a&b\\c&d\end{bmatrix}"],
    ),
    ("$5$.", ["5"]),
    ("5\\", ["5"]),  # a stray backslash left by JSON escaping
    ("x^2 + 2x", ["x^2 + 2x"]),  # nothing to rewrite
    ("2x", ["2x"]),  # a variable is not a unit
]


@pytest.mark.parametrize(("answer", "readings"), READINGS)
def test_answer_readings(answer, readings):
    assert answer_readings(answer) == readings


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
    ("B", "B", True),  # a choice letter: only the letter named counts
    ("(B) 12", "B", True),
    ("Option b", r"\text{(B)}", True),
    ("C", "B", False),
    ("12", "B", False),
    ("x+1", "1+x", None),  # not plain: math-verify decides
    ("1,22", "1.22", None),  # two readings, one of them a list
    ("1" * 200, "1" * 200, None),  # too long to read as a number here
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
    ],
)
def test_answers_equal(predicted, gold, equal):
    assert answers_equal(predicted, gold) is equal


def test_docstring_examples_run():
    assert doctest.testmod(mathtune.grading.compare).failed == 0
