"""Equations: one-step and two-step linear equations, number puzzles, two-by-two systems and
factorable quadratics.

    >>> import random
    >>> linear_equation(random.Random(0)).answer.lstrip("-").isdigit()
    True
"""

from __future__ import annotations

import random

from mathtune.curriculum.problems import NAMES, WorkedProblem, paren, pick


def _signed(value: int) -> str:
    return f"- {abs(value)}" if value < 0 else f"+ {value}"


def linear_equation(rng: random.Random) -> WorkedProblem:
    x, a, b = rng.randint(-9, 15), rng.randint(2, 9), rng.randint(-20, 30)
    c = a * x + b
    equation = f"{a}x {_signed(b)} = {c}" if b else f"{a}x = {c}"
    text = pick(
        rng,
        f"Solve for $x$: ${equation}$.",
        f"Solve {equation}.",
        f"Find x if {equation}.",
        f"What value of $x$ satisfies ${equation}$?",
    )
    steps = []
    if b:
        move = "Subtract" if b > 0 else "Add"
        steps.append(f"{move} {abs(b)} on both sides: ${a}x = {c} {_signed(-b)} = {a * x}$.")
    steps.append(f"Divide both sides by {a}: $x = {a * x} \\div {a} = {x}$.")
    return WorkedProblem(text, steps, str(x))


def number_puzzle(rng: random.Random) -> WorkedProblem:
    x, a, b = rng.randint(2, 20), rng.randint(2, 6), rng.randint(1, 25)
    result = a * x + b
    name = rng.choice(NAMES)
    text = pick(
        rng,
        f"I think of a number, multiply it by {a} and add {b}. The result is {result}. "
        "What is my number?",
        f"{name} multiplies a number by {a}, then adds {b}, and gets {result}. "
        "What was the number?",
        f"When a number is multiplied by {a} and then increased by {b}, the result is {result}. "
        "Find the number.",
    )
    steps = [
        f"Call the number $n$: ${a}n + {b} = {result}$.",
        f"Undo the addition: ${result} - {b} = {result - b}$, so ${a}n = {result - b}$.",
        f"Undo the multiplication: $n = {result - b} \\div {a} = {x}$.",
    ]
    return WorkedProblem(text, steps, str(x))


def linear_system(rng: random.Random) -> WorkedProblem:
    x, y = rng.randint(-5, 9), rng.randint(-5, 9)
    text = f"Solve the system of equations $x + y = {x + y}$ and $x - y = {x - y}$."
    steps = [
        f"Add the two equations: $2x = {x + y} + {paren(x - y)} = {2 * x}$, so $x = {x}$.",
        f"Then $y = {x + y} - {paren(x)} = {y}$.",
    ]
    return WorkedProblem(text, steps, f"x={x}, y={y}")


def linear_system_substitution(rng: random.Random) -> WorkedProblem:
    x, y, a = rng.randint(1, 9), rng.randint(1, 9), rng.randint(2, 5)
    first, second = x + y, a * x + y
    text = pick(
        rng,
        f"Solve the system $x + y = {first}$, ${a}x + y = {second}$.",
        f"Find x and y if x + y = {first} and {a}x + y = {second}.",
        f"Two numbers x and y satisfy x + y = {first} and {a}x + y = {second}. Find them.",
    )
    steps = [
        f"Subtract the first equation from the second: ${a - 1}x = {second} - {first} "
        f"= {second - first}$.",
        f"So $x = {second - first} \\div {a - 1} = {x}$.",
        f"Then $y = {first} - {x} = {y}$.",
    ]
    return WorkedProblem(text, steps, f"x={x}, y={y}")


def quadratic_roots(rng: random.Random) -> WorkedProblem:
    low, high = sorted(rng.sample(range(-6, 10), 2))
    total, product = low + high, low * high
    equation = f"x^2 {'-' if total > 0 else '+'} {abs(total)}x {'-' if product < 0 else '+'} "
    equation += f"{abs(product)} = 0"
    text = f"Find all real solutions of ${equation}$."
    factors = " ".join(f"(x {'-' if r > 0 else '+'} {abs(r)})" for r in (low, high))
    steps = [
        f"Look for two numbers with sum {total} and product {product}: {low} and {high}.",
        f"So the equation factors as ${factors} = 0$.",
        f"The solutions are $x = {low}$ and $x = {high}$.",
    ]
    return WorkedProblem(text, steps, f"{low}, {high}")


def age_problem(rng: random.Random) -> WorkedProblem:
    child, gap, years = rng.randint(3, 15), rng.randint(20, 35), rng.randint(2, 10)
    first, second = rng.sample(NAMES, 2)
    text = (
        f"{first} is {gap} years older than {second}. Together their ages add up to "
        f"{2 * child + gap}. How old will {second} be in {years} years?"
    )
    steps = [
        f"If {second} is $a$, then $a + (a + {gap}) = {2 * child + gap}$.",
        f"So $2a = {2 * child + gap} - {gap} = {2 * child}$ and $a = {child}$.",
        f"In {years} years: ${child} + {years} = {child + years}$.",
    ]
    return WorkedProblem(text, steps, str(child + years))


FAMILIES = {
    "linear_equation": linear_equation,
    "number_puzzle": number_puzzle,
    "linear_system": linear_system,
    "linear_system_substitution": linear_system_substitution,
    "quadratic_roots": quadratic_roots,
    "age_problem": age_problem,
}
