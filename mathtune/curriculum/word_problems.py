"""Stories of one, two and three steps: collecting and giving away, shopping with change,
and a running total through several events.

    >>> import random
    >>> shopping(random.Random(0)).answer.isdigit()
    True
"""

from __future__ import annotations

import random

from mathtune.curriculum.problems import ITEMS, NAMES, WorkedProblem, pick
from mathtune.curriculum.steps import add_steps, multiply_steps, subtract_steps


def sum_items(rng: random.Random) -> WorkedProblem:
    name, item = rng.choice(NAMES), rng.choice(ITEMS)
    a, b = rng.randint(20, 60), rng.randint(2, 19)
    if rng.random() < 0.5:
        text = f"{name} has {a} {item} and gets {b} more. How many {item} does {name} have now?"
        return WorkedProblem(text, [f"Add the new {item}: ${a} + {b} = {a + b}$."], str(a + b))
    text = f"{name} has {a} {item} and gives away {b}. How many {item} are left?"
    return WorkedProblem(text, [f"Take away the {item} given: ${a} - {b} = {a - b}$."], str(a - b))


def shopping(rng: random.Random) -> WorkedProblem:
    name = rng.choice(NAMES)
    count, price, extra = rng.randint(2, 9), rng.randint(3, 25), rng.randint(2, 30)
    text = pick(
        rng,
        f"{name} buys {count} pens at {price} dollars each and a bag for {extra} dollars. "
        f"How many dollars does {name} spend in all?",
        f"A ticket costs {price} dollars. {name} buys {count} tickets and pays {extra} dollars "
        "for parking. What is the total cost in dollars?",
        f"{name} orders {count} sandwiches costing {price} dollars each, plus a {extra}-dollar "
        "delivery fee. How much is the bill?",
    )
    steps = [
        f"Cost of the {count}: ${count} \\times {price} = {count * price}$.",
        *add_steps(count * price, extra),
    ]
    return WorkedProblem(text, steps, str(count * price + extra))


def change_from_payment(rng: random.Random) -> WorkedProblem:
    name = rng.choice(NAMES)
    count, price = rng.randint(2, 6), rng.randint(3, 15)
    paid = next(note for note in (20, 50, 100, 200) if note > count * price)
    text = pick(
        rng,
        f"{name} buys {count} books at {price} dollars each and pays with a {paid}-dollar "
        f"note. How much change does {name} get?",
        f"Notebooks cost {price} dollars each. {name} buys {count} of them and hands over "
        f"{paid} dollars. How many dollars come back as change?",
    )
    steps = [
        f"The books cost ${count} \\times {price} = {count * price}$ dollars.",
        *subtract_steps(paid, count * price),
    ]
    return WorkedProblem(text, steps, str(paid - count * price))


def running_total(rng: random.Random) -> WorkedProblem:
    name, item = rng.choice(NAMES), rng.choice(ITEMS)
    start, lost, bought = rng.randint(20, 80), rng.randint(3, 19), rng.randint(5, 40)
    lost = min(lost, start - 1)
    text = pick(
        rng,
        f"{name} had {start} {item}, lost {lost}, then bought {bought} more. "
        f"How many {item} does {name} have now?",
        f"A box holds {start} {item}. {lost} are taken out and {bought} are put in. "
        f"How many {item} are in the box?",
    )
    steps = [*subtract_steps(start, lost), *add_steps(start - lost, bought)]
    return WorkedProblem(text, steps, str(start - lost + bought))


def trays(rng: random.Random) -> WorkedProblem:
    trays_made, per_tray = rng.randint(3, 12), rng.randint(6, 24)
    baked = trays_made * per_tray
    sold, more = rng.randint(5, baked - 1), rng.randint(5, 40)
    text = pick(
        rng,
        f"A baker makes {trays_made} trays of {per_tray} cookies. She sells {sold} cookies and "
        f"then bakes {more} more. How many cookies does she have now?",
        f"A farmer fills {trays_made} crates with {per_tray} eggs each, sells {sold} eggs and "
        f"collects {more} more. How many eggs does he have?",
    )
    steps = [
        *multiply_steps(trays_made, per_tray),
        *subtract_steps(baked, sold),
        *add_steps(baked - sold, more),
    ]
    return WorkedProblem(text, steps, str(baked - sold + more))


def savings(rng: random.Random) -> WorkedProblem:
    name = rng.choice(NAMES)
    weekly, weeks, spent = rng.randint(4, 30), rng.randint(3, 12), rng.randint(5, 40)
    saved = weekly * weeks
    spent = min(spent, saved - 1)
    text = pick(
        rng,
        f"{name} saves {weekly} dollars a week for {weeks} weeks, then spends {spent} dollars "
        "on a game. How many dollars are left?",
        f"Each week {name} puts {weekly} dollars in a jar. After {weeks} weeks {name} takes out "
        f"{spent} dollars. How much is in the jar?",
    )
    steps = [*multiply_steps(weekly, weeks), *subtract_steps(saved, spent)]
    return WorkedProblem(text, steps, str(saved - spent))


FAMILIES = {
    "sum_items": sum_items,
    "shopping": shopping,
    "change_from_payment": change_from_payment,
    "running_total": running_total,
    "trays": trays,
    "savings": savings,
}
