"""Fractions and decimals: adding and simplifying fractions, a fraction of a number, shares
of a pizza, decimal sums and prices.

    >>> import random
    >>> fraction_simplify(random.Random(0)).answer.startswith("\\\\frac")
    True
"""

from __future__ import annotations

import math
import random
from decimal import Decimal

from mathtune.curriculum.problems import NAMES, WorkedProblem, pick
from mathtune.curriculum.steps import add_steps, decimal, frac


def fraction_addition(rng: random.Random) -> WorkedProblem:
    b, d = rng.sample(range(2, 10), 2)
    a, c = rng.randint(1, b - 1), rng.randint(1, d - 1)
    common = b * d // math.gcd(b, d)
    top = a * common // b + c * common // d
    answer = frac(top, common)
    text = pick(
        rng,
        f"Compute $\\frac{{{a}}}{{{b}}} + \\frac{{{c}}}{{{d}}}$.",
        f"What is {a}/{b} + {c}/{d}? Give the answer as a fraction in lowest terms.",
        f"Add the fractions {a}/{b} and {c}/{d}.",
        f"Find the sum of $\\frac{{{a}}}{{{b}}}$ and $\\frac{{{c}}}{{{d}}}$.",
    )
    steps = [
        f"The common denominator of {b} and {d} is {common}.",
        f"$\\frac{{{a}}}{{{b}}} = \\frac{{{a * common // b}}}{{{common}}}$ and "
        f"$\\frac{{{c}}}{{{d}}} = \\frac{{{c * common // d}}}{{{common}}}$.",
        f"Add the numerators: ${a * common // b} + {c * common // d} = {top}$, "
        f"giving $\\frac{{{top}}}{{{common}}}$.",
    ]
    if answer != f"\\frac{{{top}}}{{{common}}}":
        steps.append(f"In lowest terms, $\\frac{{{top}}}{{{common}}} = {answer}$.")
    return WorkedProblem(text, steps, answer)


def fraction_simplify(rng: random.Random) -> WorkedProblem:
    top, bottom = sorted(rng.sample(range(1, 13), 2))
    while math.gcd(top, bottom) != 1:
        top, bottom = sorted(rng.sample(range(1, 13), 2))
    factor = rng.randint(2, 9)
    n, d = top * factor, bottom * factor
    text = pick(
        rng,
        f"Simplify $\\frac{{{n}}}{{{d}}}$.",
        f"Write {n}/{d} in lowest terms.",
        f"Reduce the fraction {n}/{d} to lowest terms.",
    )
    steps = [
        f"The greatest common divisor of {n} and {d} is {factor}.",
        f"Divide both by {factor}: ${n} \\div {factor} = {top}$ and "
        f"${d} \\div {factor} = {bottom}$.",
    ]
    return WorkedProblem(text, steps, frac(n, d), "Number Theory")


def fraction_of_number(rng: random.Random) -> WorkedProblem:
    bottom = rng.randint(2, 9)
    top = rng.randint(1, bottom - 1)
    while math.gcd(top, bottom) != 1:
        top = rng.randint(1, bottom - 1)
    number = bottom * rng.randint(2, 15)
    part = number // bottom
    text = pick(
        rng,
        f"What is $\\frac{{{top}}}{{{bottom}}}$ of {number}?",
        f"Find {top}/{bottom} of {number}.",
        f"{rng.choice(NAMES)} has {number} stamps and gives away {top}/{bottom} of them. "
        "How many stamps are given away?",
    )
    steps = [
        f"First divide by {bottom}: ${number} \\div {bottom} = {part}$.",
        f"Then multiply by {top}: ${top} \\times {part} = {top * part}$.",
    ]
    return WorkedProblem(text, steps, str(top * part))


def pizza_fraction(rng: random.Random) -> WorkedProblem:
    slices = rng.choice((6, 8, 10, 12))
    a = rng.randint(1, slices - 2)
    b = rng.randint(1, slices - 1 - a)
    eaten, common = a + b, math.gcd(a + b, slices)
    answer = frac(eaten, slices)
    text = (
        f"A pizza is cut into {slices} equal slices. Ana eats {a} slices and Ben eats {b}. "
        "What fraction of the pizza did they eat? Give the fraction in lowest terms."
    )
    steps = [f"Together they eat ${a} + {b} = {eaten}$ of the {slices} slices."]
    if common > 1:
        steps.append(
            f"Divide top and bottom by {common}: $\\frac{{{eaten}}}{{{slices}}} = {answer}$."
        )
    return WorkedProblem(text, steps, answer)


def decimal_addition(rng: random.Random) -> WorkedProblem:
    a, b = rng.randint(101, 999), rng.randint(11, 999)
    x, y = decimal(a), decimal(b)
    text = pick(rng, f"Compute {x} + {y}.", f"What is {x} plus {y}?", f"Add {x} and {y}.")
    steps = [
        f"Line up the decimal points and add in hundredths: {a} + {b}.",
        *add_steps(a, b)[:-1],
        f"Put the point back: ${x} + {y} = {decimal(a + b)}$.",
    ]
    return WorkedProblem(text, steps, decimal(a + b))


def price_decimal(rng: random.Random) -> WorkedProblem:
    cents = rng.randint(0, 4) * 100 + rng.choice((25, 50, 75))
    # Only counts that leave a fractional total, so the answer is a decimal.
    count = rng.choice([count for count in range(2, 10) if cents * count % 100])
    price = Decimal(cents) / 100
    total = f"{price * count:f}".rstrip("0").rstrip(".")
    text = f"A notebook costs {price} dollars. How many dollars do {count} notebooks cost?"
    steps = [f"Multiply the price by the number of notebooks: ${price} \\times {count} = {total}$."]
    return WorkedProblem(text, steps, total)


FAMILIES = {
    "fraction_addition": fraction_addition,
    "fraction_simplify": fraction_simplify,
    "fraction_of_number": fraction_of_number,
    "pizza_fraction": pizza_fraction,
    "decimal_addition": decimal_addition,
    "price_decimal": price_decimal,
}
