"""Tests for mathtune.grading.choices: choice letters in golds and in completions."""

from __future__ import annotations

import doctest

import pytest

import mathtune.grading.choices
from mathtune.grading.choices import Choice, committed_letter, gold_choice
from mathtune.grading.grader import grade_completion

GOLDS = [
    ("B", Choice("B", "")),
    ("(B)", Choice("B", "")),
    (r"\text{(C)}", Choice("C", "")),
    ("B) 12", Choice("B", "12")),  # with the option's text
    ("(D) Alina", Choice("D", "Alina")),
    ("C Cecile", Choice("C", "Cecile")),
    ("C. x = 42", Choice("C", "x = 42")),
    ("A = 5", None),  # a name, not a choice
    ("e^2", None),
    ("AB", None),
    ("12", None),
]


@pytest.mark.parametrize(("gold", "choice"), GOLDS)
def test_gold_choice(gold, choice):
    assert gold_choice(gold) == choice


COMMITTED = [
    (r"So the answer is $\boxed{\text{(B)}}$.", "B"),  # boxed
    ("<answer>B</answer>", "B"),
    ("The answer is for sure D, it can't be A or B", "D"),  # an answer phrase
    ("réponse est C non A", "C"),
    ("答案是 B", "B"),
    ("Final Answer: (C)", "C"),
    ("D. it can't be A or B", "D"),  # the line starts with it
    ("B。不是 A", "B"),
    ("B不是 A", "B"),
    ("(C) 12", "C"),
    ("b", "B"),  # lower case, standing alone
    ("It's not A, therefore I think it's B", "B"),  # the line ends with it
    ("Option B", "B"),
    ("<think>The answer is A</think> The answer is C.", "C"),  # reasoning is not read
    ("e^2", None),  # a letter in an expression is no choice
    ("AB", None),
    ("The answer is 12", None),
]


@pytest.mark.parametrize(("completion", "letter"), COMMITTED)
def test_committed_letter(completion, letter):
    assert committed_letter(completion) == letter


@pytest.mark.parametrize(
    ("completion", "gold", "correct"),
    [
        ("So (B) it is: the answer is B.", "B) 12", True),
        ("The answer is C.", "B) 12", False),
        (r"\boxed{12}", "B) 12", True),  # no letter named: the option's text decides
        (r"\boxed{13}", "B) 12", False),
        (r"\boxed{12}", "B", False),  # a bare letter gold needs the letter
    ],
)
def test_grading_against_a_choice_gold(completion, gold, correct):
    assert grade_completion(completion, gold).correct is correct


def test_docstring_examples_run():
    assert doctest.testmod(mathtune.grading.choices).failed == 0
