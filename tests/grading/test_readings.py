"""Tests for mathtune.grading.readings: each rewrite of what math-verify misreads."""

from __future__ import annotations

import doctest

import pytest

import mathtune.grading.readings
from mathtune.grading.readings import answer_readings

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
    ("25%", ["25", r"\frac{1}{4}"]),  # a percent's number, and its value
    ("12.5 pct", [r"\frac{25}{2}", r"\frac{1}{8}"]),
    (r"33\frac{1}{3}\%", [r"\frac{100}{3}", r"\frac{1}{3}"]),
    ("4 4/9%", [r"\frac{40}{9}", r"\frac{2}{45}"]),
    ("0,111", ["0.111", "0,111"]),  # a leading 0 is never a thousands group
    (r"\text{12 cm}", ["12"]),
    (r"\begin{align*}x(x+1)&=x^2+x\\&=y\end{align*}", ["x(x+1)=x^2+x =y"]),
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
    (r"0.1\overline{6}", [r"\frac{1}{6}"]),  # a repeating decimal
    (r"-2 \le x < 3", ["[-2, 3)"]),  # inequalities as intervals
    (r"3 \ge x > -1", ["(-1, 3]"]),
    ("x > 5", [r"(5, \infty)"]),
    (r"x < -2 \text{ or } x > 3", [r"(-\infty, -2) \cup (3, \infty)"]),
    (r"\{x \mid x \ge 2\}", [r"[2, \infty)"]),
    ("-x > -1", ["-x > -1"]),  # a coefficient: left to math-verify
    (r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}", ["(1, 2)"]),  # a column is a vector
    ("1, 2 et 3", ["1, 2, 3"]),
    ("2*sqrt(2)", [r"2*\sqrt{2}"]),  # math typed as code
    ("2**(1/4)", ["2^(1/4)"]),
    ("pi/2", [r"\pi /2"]),
    ("x^2 + 2x", ["x^2 + 2x"]),  # nothing to rewrite
    ("2x", ["2x"]),  # a variable is not a unit
]


@pytest.mark.parametrize(("answer", "readings"), READINGS)
def test_answer_readings(answer, readings):
    assert answer_readings(answer) == readings


def test_docstring_examples_run():
    assert doctest.testmod(mathtune.grading.readings).failed == 0
