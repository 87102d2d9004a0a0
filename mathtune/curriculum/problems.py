"""The shape every curriculum family returns, and the names and items its stories use.

A family is a function of one `random.Random` that returns a `WorkedProblem`: the text, the steps
of a worked solution (each arithmetic step written out) and the exact answer to box.

    >>> WorkedProblem("Compute 2 + 3.", ["$2 + 3 = 5$."], "5").problem_type
    'Algebra'
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

NAMES = ("Tom", "Ana", "Li", "Sara", "Omar", "Mia", "Ivan", "Zoe", "Raj", "Emma", "Kofi", "Lena")
ITEMS = ("apples", "marbles", "stickers", "books", "coins", "shells", "pencils", "cards")


@dataclass(frozen=True)
class WorkedProblem:
    """One generated problem: text, solution steps and the exact boxed answer."""

    problem: str
    steps: list[str]
    answer: str
    problem_type: str = "Algebra"
    question_type: str = "math-word-problem"


Family = Callable[[random.Random], WorkedProblem]


def paren(value: int) -> str:
    """A negative number in parentheses, so `3 - (-4)` reads right.

    >>> paren(-4), paren(4)
    ('(-4)', '4')
    """
    return f"({value})" if value < 0 else str(value)


def pick(rng: random.Random, *phrasings: str) -> str:
    """One of several phrasings of the same question, chosen by `rng`."""
    return rng.choice(phrasings)
