"""Tests for mathtune.numerals: reading written numbers exactly."""

from __future__ import annotations

import doctest
import math
from fractions import Fraction

import pytest

import mathtune.numerals
from mathtune.numerals import Number, parse_number, resolve_digit_commas

F = Fraction
NUMBERS = [
    # integers and decimals; a decimal keeps the unit of its last printed digit
    ("5", Number(F(5))),
    ("-5", Number(F(-5))),
    ("+3", Number(F(3))),
    ("007", Number(F(7))),
    ("0.5", Number(F(1, 2), F(1, 10))),
    (".5", Number(F(1, 2), F(1, 10))),
    ("3.140", Number(F(157, 50), F(1, 1000))),
    # scientific notation
    ("1.5e-3", Number(F(3, 2000), F(1, 10000))),
    (r"2.5\times10^{-3}", Number(F(1, 400), F(1, 10000))),
    (r"1.5 \cdot 10^3", Number(F(1500), F(100))),
    ("10^{6}", Number(F(10**6))),
    ("-10^3", Number(F(-1000))),
    # fractions and mixed numbers
    (r"\frac{3}{4}", Number(F(3, 4))),
    (r"-\frac{3}{4}", Number(F(-3, 4))),
    (r"\frac{-3}{4}", Number(F(-3, 4))),
    ("3/4", Number(F(3, 4))),
    (r"\frac{1.5}{3}", Number(F(1, 2))),
    (r"2\frac{1}{2}", Number(F(5, 2))),
    ("2 1/2", Number(F(5, 2))),
    (r"-2 \frac{1}{2}", Number(F(-5, 2))),
    # infinity
    (r"\infty", Number(math.inf)),
    (r"-\infty", Number(-math.inf)),
    # not plain numbers
    ("2 3/2", None),
    ("1/0", None),
    ("1e999", None),
    ("x", None),
    ("2x", None),
    ("1,5", None),
    ("", None),
    ("9" * 401, None),
]


@pytest.mark.parametrize(("text", "number"), NUMBERS)
def test_parse_number(text, number):
    assert parse_number(text) == number


COMMAS = [
    ("1,000", "1000"),
    ("12,345,678.9", "12345678.9"),
    ("1{,}000", "1000"),
    ("1 000 000", "1000000"),
    (r"1\,000", "1000"),
    ("2{,}5", "2.5"),
    ("0{,}125", "0.125"),
    ("2,5", "2,5"),  # ambiguous: stays a list
    ("0,5", "0,5"),
    ("1,2,3", "1,2,3"),
    ("(100,200)", "(100,200)"),  # a point, not 100200
    ("1,0000", "1,0000"),
]


@pytest.mark.parametrize(("text", "resolved"), COMMAS)
def test_resolve_digit_commas(text, resolved):
    assert resolve_digit_commas(text) == resolved


def test_docstring_examples_run():
    assert doctest.testmod(mathtune.numerals).failed == 0
