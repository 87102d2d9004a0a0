"""Divisibility and counting: gcd, lcm, primes, remainders as multiple choice, handshakes
and choices multiplied.

    >>> import random
    >>> gcd_problem(random.Random(0)).problem_type
    'Number Theory'
"""

from __future__ import annotations

import math
import random

from mathtune.curriculum.problems import NAMES, WorkedProblem, pick


def _euclid(a: int, b: int) -> list[str]:
    """Euclid's algorithm, one line per division."""
    steps = []
    while b:
        steps.append(f"${a} = {a // b} \\times {b} + {a % b}$.")
        a, b = b, a % b
    return [*steps, f"The last non-zero remainder is {a}."]


def gcd_problem(rng: random.Random) -> WorkedProblem:
    common = rng.randint(2, 15)
    a, b = (common * k for k in rng.sample(range(2, 13), 2))
    a, b = max(a, b), min(a, b)
    text = pick(
        rng,
        f"Find the greatest common divisor of {a} and {b}.",
        f"What is $\\gcd({a}, {b})$?",
        f"What is the largest number that divides both {a} and {b}?",
    )
    return WorkedProblem(text, _euclid(a, b), str(math.gcd(a, b)), "Number Theory")


def lcm_problem(rng: random.Random) -> WorkedProblem:
    a, b = rng.sample(range(2, 21), 2)
    answer = a * b // math.gcd(a, b)
    text = pick(
        rng,
        f"Find the least common multiple of {a} and {b}.",
        f"What is the smallest positive number divisible by both {a} and {b}?",
        f"One bus comes every {a} minutes and another every {b} minutes. Both come now. "
        "In how many minutes do they next come together?",
    )
    steps = [
        f"$\\gcd({a}, {b}) = {math.gcd(a, b)}$.",
        f"$\\operatorname{{lcm}} = {a} \\times {b} \\div {math.gcd(a, b)} = {answer}$.",
    ]
    return WorkedProblem(text, steps, str(answer), "Number Theory")


def _is_prime(n: int) -> bool:
    return n > 1 and all(n % d for d in range(2, math.isqrt(n) + 1))


def primes(rng: random.Random) -> WorkedProblem:
    low = rng.randint(2, 60)
    high = low + rng.randint(8, 20)
    found = [n for n in range(low, high + 1) if _is_prime(n)]
    if rng.random() < 0.5:
        text = pick(
            rng,
            f"How many prime numbers are there between {low} and {high}, inclusive?",
            f"Count the primes from {low} to {high}.",
        )
        steps = [
            f"Check each number from {low} to {high} for a divisor up to its square root.",
            f"The primes are {', '.join(map(str, found)) or 'none'}: {len(found)} of them.",
        ]
        return WorkedProblem(text, steps, str(len(found)), "Number Theory")
    nxt = next(n for n in range(high + 1, 2 * high + 2) if _is_prime(n))
    text = f"What is the smallest prime number greater than {high}?"
    steps = [
        f"{n} is divisible by {next(d for d in range(2, n) if n % d == 0)}."
        for n in range(high + 1, nxt)
    ]
    steps.append(f"{nxt} has no divisor between 2 and {math.isqrt(nxt)}, so it is prime.")
    return WorkedProblem(text, steps, str(nxt), "Number Theory")


def remainder_choice(rng: random.Random) -> WorkedProblem:
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
    return WorkedProblem(text, steps, letter, "Number Theory", "MCQ")


def handshakes(rng: random.Random) -> WorkedProblem:
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
    return WorkedProblem(text, steps, str(people * (people - 1) // 2), "Combinatorics")


def outfits(rng: random.Random) -> WorkedProblem:
    shirts, pants, hats = rng.randint(2, 9), rng.randint(2, 8), rng.randint(2, 5)
    name = rng.choice(NAMES)
    if rng.random() < 0.5:
        text = pick(
            rng,
            f"{name} has {shirts} shirts and {pants} pairs of pants. How many different "
            "outfits of one shirt and one pair of pants can {name} make?".replace("{name}", name),
            f"A menu has {shirts} main dishes and {pants} desserts. How many meals of one main "
            "dish and one dessert are possible?",
        )
        steps = [f"Each of the {shirts} choices pairs with each of the {pants} others."]
        steps.append(f"${shirts} \\times {pants} = {shirts * pants}$.")
        return WorkedProblem(text, steps, str(shirts * pants), "Combinatorics")
    text = (
        f"{name} picks one of {shirts} shirts, one of {pants} pairs of pants and one of "
        f"{hats} hats. How many outfits are possible?"
    )
    steps = [
        f"Multiply the choices: ${shirts} \\times {pants} = {shirts * pants}$.",
        f"${shirts * pants} \\times {hats} = {shirts * pants * hats}$.",
    ]
    return WorkedProblem(text, steps, str(shirts * pants * hats), "Combinatorics")


FAMILIES = {
    "gcd": gcd_problem,
    "lcm": lcm_problem,
    "primes": primes,
    "remainder_choice": remainder_choice,
    "handshakes": handshakes,
    "outfits": outfits,
}
