"""Deterministic OpenR1-Math-220k-shaped problems for offline runs and tests.

Row `i` of seed `s` depends only on `(s, i)`, so asking for more rows never changes the
earlier ones. Eleven families cover the answer shapes the rewards must handle: integers,
negatives, fractions, decimals, percentages, several values, variable assignments,
units and multiple-choice letters. Numbers stay small (one or two operations on numbers
below 100) so that SmolLM2-135M learns the patterns in a few hundred LoRA steps on a CPU.

    >>> row = generate_row(seed=0, index=0)
    >>> row["solution"].endswith("$\\\\boxed{" + row["answer"] + "}$.")
    True
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa

from mathtune.schema import OPENR1_SCHEMA

UUID_NAMESPACE = uuid.UUID("6f1c2a9e-4b1d-5e8a-9c3f-0d2e7b5a8c41")
NAMES = ("Tom", "Ana", "Li", "Sara", "Omar", "Mia", "Ivan", "Zoe")
ITEMS = ("apples", "marbles", "stickers", "books", "coins", "shells")
OPENERS = ("Okay, let me work through this.", "Let me think step by step.")
# (first trace, second trace) kinds and their weights: every row keeps one correct,
# complete trace, and some put it second so "first correct trace" logic is exercised.
TRACE_PATTERNS = (("correct", "correct"), ("failed", "correct"), ("cut", "correct"))
TRACE_WEIGHTS = (5, 3, 2)


@dataclass(frozen=True)
class Problem:
    """One generated problem: text, solution steps and the exact boxed answer."""

    problem: str
    steps: list[str]
    answer: str
    problem_type: str = "Algebra"
    question_type: str = "math-word-problem"


def _paren(value: int) -> str:
    return f"({value})" if value < 0 else str(value)


def _sum_items(rng: random.Random) -> Problem:
    name, item = rng.choice(NAMES), rng.choice(ITEMS)
    a, b = rng.randint(20, 60), rng.randint(2, 19)
    if rng.random() < 0.5:
        text = f"{name} has {a} {item} and gets {b} more. How many {item} does {name} have now?"
        return Problem(text, [f"Add the new {item}: ${a} + {b} = {a + b}$."], str(a + b))
    text = f"{name} has {a} {item} and gives away {b}. How many {item} are left?"
    return Problem(text, [f"Take away the {item} given: ${a} - {b} = {a - b}$."], str(a - b))


def _temperature(rng: random.Random) -> Problem:
    start, fall = rng.randint(-5, 12), rng.randint(5, 20)
    text = (
        f"At 6 a.m. the temperature was {start} degrees Celsius. By midnight it had fallen "
        f"by {fall} degrees. What was the temperature at midnight, in degrees Celsius?"
    )
    steps = [f"A fall means subtracting: ${start} - {fall} = {start - fall}$."]
    return Problem(text, steps, str(start - fall))


def _pizza_fraction(rng: random.Random) -> Problem:
    slices = rng.choice((6, 8, 10, 12))
    a = rng.randint(1, slices - 2)
    b = rng.randint(1, slices - 1 - a)
    eaten, common = a + b, math.gcd(a + b, slices)
    answer = f"\\frac{{{eaten // common}}}{{{slices // common}}}"
    text = (
        f"A pizza is cut into {slices} equal slices. Ana eats {a} slices and Ben eats {b}. "
        "What fraction of the pizza did they eat? Give the fraction in lowest terms."
    )
    steps = [f"Together they eat ${a} + {b} = {eaten}$ of the {slices} slices."]
    if common > 1:
        steps.append(
            f"Divide top and bottom by {common}: $\\frac{{{eaten}}}{{{slices}}} = {answer}$."
        )
    return Problem(text, steps, answer)


def _price_decimal(rng: random.Random) -> Problem:
    cents = rng.randint(0, 4) * 100 + rng.choice((25, 50, 75))
    # Only counts that leave a fractional total, so the answer is a decimal.
    count = rng.choice([count for count in range(2, 10) if cents * count % 100])
    price = Decimal(cents) / 100
    total = f"{price * count:f}".rstrip("0").rstrip(".")
    text = f"A notebook costs {price} dollars. How many dollars do {count} notebooks cost?"
    steps = [f"Multiply the price by the number of notebooks: ${price} \\times {count} = {total}$."]
    return Problem(text, steps, total)


def _percent_drop(rng: random.Random) -> Problem:
    # Old prices are multiples of 20, so every listed percentage gives a whole new price.
    old, percent = 20 * rng.randint(2, 10), rng.choice((10, 20, 25, 50, 75))
    drop = old * percent // 100
    text = (
        f"A jacket cost {old} dollars. In a sale its price fell to {old - drop} dollars. "
        "By what percentage did the price fall?"
    )
    steps = [
        f"The price fell by ${old} - {old - drop} = {drop}$ dollars.",
        f"As a share of the old price: $\\frac{{{drop}}}{{{old}}} \\times 100\\% = {percent}\\%$.",
    ]
    return Problem(text, steps, f"{percent}\\%")


def _quadratic_roots(rng: random.Random) -> Problem:
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
    return Problem(text, steps, f"{low}, {high}")


def _linear_system(rng: random.Random) -> Problem:
    x, y = rng.randint(-5, 9), rng.randint(-5, 9)
    text = f"Solve the system of equations $x + y = {x + y}$ and $x - y = {x - y}$."
    steps = [
        f"Add the two equations: $2x = {x + y} + {_paren(x - y)} = {2 * x}$, so $x = {x}$.",
        f"Then $y = {x + y} - {_paren(x)} = {y}$.",
    ]
    return Problem(text, steps, f"x={x}, y={y}")


def _runner_speed(rng: random.Random) -> Problem:
    speed, hours = rng.randint(3, 20), rng.randint(2, 6)
    text = (
        f"Runner R covers {speed * hours} km in {hours} hours at a constant speed $v_{{R}}$. "
        "Find $v_{R}$ in km/h."
    )
    steps = [
        "Speed is distance divided by time.",
        f"$v_{{R}} = \\frac{{{speed * hours}}}{{{hours}}} = {speed}$ km/h.",
    ]
    return Problem(text, steps, f"v_{{R}}={speed}")


def _rectangle(rng: random.Random) -> Problem:
    length, width = rng.randint(3, 15), rng.randint(2, 12)
    text = f"A rectangle is {length} cm long and {width} cm wide. "
    if rng.random() < 0.5:
        area = length * width
        steps = [f"Area is length times width: ${length} \\times {width} = {area}$."]
        answer = f"{area}\\mathrm{{~cm}}^{{2}}"
        return Problem(text + "What is its area?", steps, answer, "Geometry")
    perimeter = 2 * (length + width)
    steps = [
        f"Perimeter is twice the sum of the sides: $2 \\times ({length} + {width}) = {perimeter}$."
    ]
    return Problem(
        text + "What is its perimeter?", steps, f"{perimeter}\\mathrm{{~cm}}", "Geometry"
    )


def _handshakes(rng: random.Random) -> Problem:
    people = rng.randint(3, 15)
    text = (
        f"At a party, each of {people} people shakes hands once with every other person. "
        "How many handshakes take place?"
    )
    steps = [
        f"Each person shakes {people - 1} hands: ${people} \\times {people - 1} = "
        f"{people * (people - 1)}$.",
        f"Each handshake was counted twice: $\\frac{{{people * (people - 1)}}}{{2}} = "
        f"{people * (people - 1) // 2}$.",
    ]
    return Problem(text, steps, str(people * (people - 1) // 2), "Combinatorics")


def _remainder_choice(rng: random.Random) -> Problem:
    number, divisor = rng.randint(20, 99), rng.randint(5, 9)
    quotient, remainder = divmod(number, divisor)
    options = sorted({remainder, *rng.sample([r for r in range(divisor) if r != remainder], 4)})
    letter = "ABCDE"[options.index(remainder)]
    choices = " ".join(f"({mark}) {value}" for mark, value in zip("ABCDE", options, strict=True))
    text = f"What is the remainder when {number} is divided by {divisor}?\n{choices}"
    steps = [
        f"The largest multiple of {divisor} not above {number} is "
        f"${divisor} \\times {quotient} = {divisor * quotient}$.",
        f"The remainder is ${number} - {divisor * quotient} = {remainder}$, option ({letter}).",
    ]
    return Problem(text, steps, letter, "Number Theory", "MCQ")


FAMILIES: tuple[Callable[[random.Random], Problem], ...] = (
    _sum_items,
    _temperature,
    _pizza_fraction,
    _price_decimal,
    _percent_drop,
    _quadratic_roots,
    _linear_system,
    _runner_speed,
    _rectangle,
    _handshakes,
    _remainder_choice,
)


def write_solution(problem: Problem) -> str:
    """Numbered steps, then the boxed answer on its own line."""
    lines = [f"Step {number}: {step}" for number, step in enumerate(problem.steps, start=1)]
    return "\n".join([*lines, f"The answer is $\\boxed{{{problem.answer}}}$."])


def _write_trace(kind: str, problem: Problem, opener: str) -> str:
    if kind == "correct":
        thought = f"{opener} {' '.join(problem.steps)} So the answer is {problem.answer}."
        return f"<think>\n{thought}\n</think>\n\n{write_solution(problem)}"
    if kind == "failed":
        return f"<think>\n{opener} {problem.steps[0]} Hmm, I lost track.\n</think>\n\nNo answer."
    # A trace cut by the generation limit: no closing tag, no written solution.
    return f"<think>\n{opener} {problem.steps[0]} Let me check that again. Let me check"


def generate_row(seed: int, index: int) -> dict[str, Any]:
    """Row `index` of the synthetic source, with every OpenR1-Math-220k column."""
    rng = random.Random(f"{seed}:{index}")  # str seeds hash with SHA-512: stable across runs
    problem = FAMILIES[index % len(FAMILIES)](rng)
    kinds = rng.choices(TRACE_PATTERNS, weights=TRACE_WEIGHTS)[0]
    traces = [
        _write_trace(kind, problem, opener) for kind, opener in zip(kinds, OPENERS, strict=True)
    ]
    verified = [kind == "correct" for kind in kinds]
    return {
        "problem": problem.problem,
        "solution": write_solution(problem),
        "answer": problem.answer,
        "problem_type": problem.problem_type,
        "question_type": problem.question_type,
        "source": "synthetic",
        "uuid": str(uuid.uuid5(UUID_NAMESPACE, f"{seed}:{index}")),
        "is_reasoning_complete": [kind != "cut" for kind in kinds],
        "generations": traces,
        "correctness_math_verify": verified,
        "correctness_llama": None if rng.random() < 0.5 else list(verified),
        "finish_reasons": ["length" if kind == "cut" else "stop" for kind in kinds],
        "correctness_count": sum(verified),
        "messages": [
            {"content": problem.problem, "role": "user"},
            {"content": traces[verified.index(True)], "role": "assistant"},
        ],
    }


def generate_table(count: int, seed: int, start: int = 0) -> pa.Table:
    """Rows `start .. start + count - 1` as an Arrow table in the exact OpenR1 schema."""
    rows = [generate_row(seed, index) for index in range(start, start + count)]
    return pa.Table.from_pylist(rows, schema=OPENR1_SCHEMA)
