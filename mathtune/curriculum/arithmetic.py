"""Whole-number arithmetic: column addition and subtraction, multiplication, division,
order of operations and negative numbers, each in several phrasings.

    >>> import random
    >>> addition(random.Random(1)).answer.isdigit()
    True
"""

from __future__ import annotations

import random

from mathtune.curriculum.problems import NAMES, WorkedProblem, paren, pick
from mathtune.curriculum.steps import add_steps, multiply_steps, subtract_steps


def _operands(rng: random.Random) -> tuple[int, int]:
    digits = rng.choice((2, 2, 3, 3, 4))
    low, high = 10 ** (digits - 1), 10**digits - 1
    return rng.randint(low, high), rng.randint(10, high)


def addition(rng: random.Random) -> WorkedProblem:
    a, b = _operands(rng)
    text = pick(
        rng,
        f"Compute {a} + {b}.",
        f"What is {a} plus {b}?",
        f"Find the sum of {a} and {b}.",
        f"Calculate ${a} + {b}$.",
        f"Add {a} and {b}.",
    )
    return WorkedProblem(text, add_steps(a, b), str(a + b))


def subtraction(rng: random.Random) -> WorkedProblem:
    a, b = sorted(_operands(rng), reverse=True)
    text = pick(
        rng,
        f"Compute {a} - {b}.",
        f"What is {a} minus {b}?",
        f"Subtract {b} from {a}.",
        f"Find the difference between {a} and {b}.",
        f"Calculate ${a} - {b}$.",
    )
    return WorkedProblem(text, subtract_steps(a, b), str(a - b))


def multiplication(rng: random.Random) -> WorkedProblem:
    a = rng.randint(12, 99) if rng.random() < 0.7 else rng.randint(100, 400)
    b = rng.randint(3, 9) if rng.random() < 0.6 or a >= 100 else rng.randint(11, 39)
    text = pick(
        rng,
        f"Compute {a} \\times {b}.",
        f"What is {a} times {b}?",
        f"Find the product of {a} and {b}.",
        f"Multiply {a} by {b}.",
        f"Calculate ${a} \\cdot {b}$.",
    )
    return WorkedProblem(text, multiply_steps(a, b), str(a * b))


def exact_division(rng: random.Random) -> WorkedProblem:
    divisor, quotient = rng.randint(2, 12), rng.randint(3, 40)
    number = divisor * quotient
    text = pick(
        rng,
        f"Compute ${number} \\div {divisor}$.",
        f"What is {number} divided by {divisor}?",
        f"Divide {number} by {divisor}.",
        f"Calculate $\\frac{{{number}}}{{{divisor}}}$.",
    )
    steps = [
        f"Find the number that times {divisor} gives {number}.",
        f"${divisor} \\times {quotient} = {number}$, so ${number} \\div {divisor} = {quotient}$.",
    ]
    return WorkedProblem(text, steps, str(quotient))


def division_remainder(rng: random.Random) -> WorkedProblem:
    divisor = rng.randint(3, 12)
    quotient, remainder = rng.randint(3, 30), rng.randint(1, divisor - 1)
    number = divisor * quotient + remainder
    name = rng.choice(NAMES)
    text = pick(
        rng,
        f"What is the remainder when {number} is divided by {divisor}?",
        f"Find the remainder of ${number} \\div {divisor}$.",
        f"{name} shares {number} sweets equally among {divisor} friends, giving each as many "
        "as possible. How many sweets are left over?",
    )
    steps = [
        f"The largest multiple of {divisor} not above {number} is "
        f"${divisor} \\times {quotient} = {divisor * quotient}$.",
        f"The remainder is ${number} - {divisor * quotient} = {remainder}$.",
    ]
    return WorkedProblem(text, steps, str(remainder), "Number Theory")


def order_of_operations(rng: random.Random) -> WorkedProblem:
    a, b, c = rng.randint(2, 20), rng.randint(2, 9), rng.randint(2, 9)
    if rng.random() < 0.5:
        expression, value = f"{a} + {b} \\times {c}", a + b * c
        steps = [
            f"Multiply before adding: ${b} \\times {c} = {b * c}$.",
            f"Then add: ${a} + {b * c} = {value}$.",
        ]
    else:
        d = rng.randint(1, b + c - 1)
        expression, value = f"({b} + {c}) \\times {a} - {d}", (b + c) * a - d
        steps = [
            f"Brackets first: ${b} + {c} = {b + c}$.",
            f"Then multiply: ${b + c} \\times {a} = {(b + c) * a}$.",
            f"Then subtract: ${(b + c) * a} - {d} = {value}$.",
        ]
    plain = expression.replace("\\times", "*")
    text = pick(
        rng, f"Evaluate ${expression}$.", f"Compute {plain}.", f"What is the value of {plain}?"
    )
    return WorkedProblem(text, steps, str(value))


def negative_numbers(rng: random.Random) -> WorkedProblem:
    a, b = rng.randint(-30, 30), rng.randint(-30, 30)
    operation = rng.choice(("+", "-", "\\times"))
    value = {"+": a + b, "-": a - b, "\\times": a * b}[operation]
    expression = f"{paren(a)} {operation} {paren(b)}"
    if operation == "+":
        rule = "Adding a negative number is subtracting its size."
    elif operation == "-":
        rule = "Subtracting a number is adding its opposite."
    else:
        rule = "The product is negative exactly when one factor is negative."
    text = pick(
        rng,
        f"Compute ${expression}$.",
        f"What is {expression.replace(chr(92) + 'times', '*')}?",
        f"Calculate {expression.replace(chr(92) + 'times', 'times')}.",
    )
    return WorkedProblem(text, [rule, f"${expression} = {value}$."], str(value))


def temperature(rng: random.Random) -> WorkedProblem:
    start, fall = rng.randint(-5, 12), rng.randint(5, 20)
    text = (
        f"At 6 a.m. the temperature was {start} degrees Celsius. By midnight it had fallen "
        f"by {fall} degrees. What was the temperature at midnight, in degrees Celsius?"
    )
    steps = [f"A fall means subtracting: ${start} - {fall} = {start - fall}$."]
    return WorkedProblem(text, steps, str(start - fall))


FAMILIES = {
    "addition": addition,
    "subtraction": subtraction,
    "multiplication": multiplication,
    "exact_division": exact_division,
    "division_remainder": division_remainder,
    "order_of_operations": order_of_operations,
    "negative_numbers": negative_numbers,
    "temperature": temperature,
}
