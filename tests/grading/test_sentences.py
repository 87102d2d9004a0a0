"""Tests for mathtune.grading.sentences: the value a sentence states, in any language."""

from __future__ import annotations

import doctest

import pytest

import mathtune.grading.sentences
from mathtune.grading.sentences import final_value, is_prose

FINAL_VALUES = [
    ("x^2 + 2x + 1", "x^2 + 2x + 1"),  # bare math: itself
    ("No solution exists", "No solution exists"),  # words and no value: itself
    ("She keeps **92** stickers", "92"),  # no copula: the last value
    ("In 2020 there were 42 cats", "42"),
    ("It is 7", "7"),
    ("the sum is 1, 2 et 3", "1, 2 et 3"),  # bare math after the copula: all of it
    ("Donc le périmètre vaut 36 cm", "36"),
    ("Soucis : 2,74 $ a", "2,74"),  # a value, then nothing more of math
    ("The total is 3 + 4 = 7 apples", "7"),  # a chain: its last value
    ("Thus the probability is 5/36 since there are 36 outcomes", "5/36"),  # a reason after
    ("There are 3 ways, so the total is 12", "12"),  # the conclusion
    (r"Hence the minimum value is -\frac{9}{4}, attained at x = 3/2", r"-\frac{9}{4}"),
    (r"The area is $12\pi$ square units, about 37.7", r"12\pi"),  # an approximation after
    ("La probabilité est de **25%**", "25%"),
    ("因此，盒子里一共有 48 个球", "48"),  # no spaces between words and numbers
    ("计划的比例为13/28", "13/28"),
    ("لذلك فإن عدد الطلاب هو ٤٨", "48"),  # Arabic-Indic digits
    ("not it's not 10 it's 1,000.99m²", "1,000.99m²"),  # a unit glued to the number
    ("so it is 4 4/9 percent", "4 4/9 percent"),  # a mixed number, a percent in words
    ("x2 and 3x are not numbers here", "x2 and 3x are not numbers here"),
]


@pytest.mark.parametrize(("text", "value"), FINAL_VALUES)
def test_final_value(text, value):
    assert final_value(text) == value


def test_after_an_answer_phrase_the_first_value_is_the_answer():
    text = "Janeth aura encore 220 $ à payer d'ici 12 mois"
    assert (final_value(text, stated=True), final_value(text)) == ("220", "12")


@pytest.mark.parametrize(
    ("text", "prose"),
    [
        ("2*sqrt(2) + log(3)", False),
        (r"\text{12 apples}", False),
        ("2 and 3", False),
        ("twelve", True),
        ("48个", True),
        ("It is 7", True),
    ],
)
def test_is_prose(text, prose):
    assert is_prose(text) is prose


def test_docstring_examples_run():
    assert doctest.testmod(mathtune.grading.sentences).failed == 0
