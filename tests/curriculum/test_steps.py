import doctest
import re

import pytest

import mathtune.curriculum.steps
from mathtune.curriculum.steps import add_steps, decimal, frac, multiply_steps, subtract_steps


def test_doctests_pass():
    assert doctest.testmod(mathtune.curriculum.steps).failed == 0


def test_column_addition_names_every_carry():
    assert add_steps(478, 356) == [
        "Add the ones: 8 + 6 = 14, write 4 and carry 1.",
        "Add the tens: 7 + 5 + 1 = 13, write 3 and carry 1.",
        "Add the hundreds: 4 + 3 + 1 = 8, write 8.",
        "So $478 + 356 = 834$.",
    ]
    assert add_steps(95, 17)[-2] == (
        "Add the tens: 9 + 1 + 1 = 11, write 1 and carry 1; the carried 1 starts the next place."
    )


def test_column_subtraction_names_every_borrow():
    assert subtract_steps(503, 178) == [
        "Subtract the ones: 3 is less than 8, so borrow 10: 13 - 8 = 5.",
        "Subtract the tens: 0 - 1 is less than 7, so borrow 10: 9 - 7 = 2.",
        "Subtract the hundreds: 5 - 1 - 1 = 3.",
        "So $503 - 178 = 325$.",
    ]


@pytest.mark.parametrize(
    ("a", "b"), [(478, 356), (9, 999), (1000, 1), (5, 3), (12, 89), (999, 999), (100, 10)]
)
def test_written_sums_and_differences_end_in_the_true_value(a, b):
    assert add_steps(a, b)[-1].endswith(f"= {a + b}$.")
    high, low = max(a, b), min(a, b)
    assert subtract_steps(high, low)[-1].endswith(f"= {high - low}$.")


@pytest.mark.parametrize(("a", "b"), [(36, 7), (315, 7), (93, 19), (20, 6), (12, 11), (4, 9)])
def test_multiplication_steps_end_in_the_product_and_each_line_is_right(a, b):
    steps = multiply_steps(a, b)
    assert steps[-1].endswith(f"= {a * b}$.")
    for left, right, value in re.findall(r"\$(\d+) \\times (\d+) = (\d+)\$", " ".join(steps)):
        assert int(left) * int(right) == int(value)


def test_fractions_and_decimals_are_written_in_lowest_terms():
    assert [frac(6, 8), frac(8, 4), frac(-3, 6), frac(5, 7)] == [
        "\\frac{3}{4}", "2", "-\\frac{1}{2}", "\\frac{5}{7}",
    ]  # fmt: skip
    assert [decimal(345), decimal(270), decimal(400), decimal(5)] == ["3.45", "2.7", "4", "0.05"]
