"""Percentages, ratios, rates, unit conversions, and the mean and median of a list.

>>> import random
>>> percent_of(random.Random(0)).answer.isdigit()
True
"""

from __future__ import annotations

import random

from mathtune.curriculum.problems import NAMES, WorkedProblem, pick
from mathtune.curriculum.steps import add_steps

# (big unit, its singular, small unit, small units per big unit)
UNITS = (
    ("meters", "meter", "centimeters", 100),
    ("kilometers", "kilometer", "meters", 1000),
    ("hours", "hour", "minutes", 60),
    ("minutes", "minute", "seconds", 60),
    ("kilograms", "kilogram", "grams", 1000),
    ("liters", "liter", "milliliters", 1000),
    ("feet", "foot", "inches", 12),
    ("days", "day", "hours", 24),
)


def percent_of(rng: random.Random) -> WorkedProblem:
    percent = rng.choice((5, 10, 20, 25, 30, 40, 50, 60, 75, 15))
    number = 20 * rng.randint(1, 25)
    value = number * percent // 100
    text = pick(
        rng,
        f"What is {percent}% of {number}?",
        f"Find {percent} percent of {number}.",
        f"Compute ${percent}\\%$ of {number}.",
        f"A class has {number} students and {percent}% of them walk to school. "
        "How many students walk to school?",
    )
    steps = [
        f"{percent}% means {percent} out of 100: ${number} \\div 100 = {number / 100:g}$.",
        f"Then ${number / 100:g} \\times {percent} = {value}$.",
    ]
    return WorkedProblem(text, steps, str(value))


def percent_change(rng: random.Random) -> WorkedProblem:
    old, percent = 20 * rng.randint(2, 10), rng.choice((10, 20, 25, 50, 75))
    change = old * percent // 100
    if rng.random() < 0.5:
        new, word = old + change, "increase"
        text = pick(
            rng,
            f"A price rises from {old} dollars to {new} dollars. What is the percent increase?",
            f"The number of members grew from {old} to {new}. By what percent did it grow?",
        )
    else:
        new, word = old - change, "decrease"
        text = pick(
            rng,
            f"A jacket cost {old} dollars. In a sale its price fell to {new} dollars. "
            "By what percentage did the price fall?",
            f"A town's population went from {old} to {new}. What was the percent decrease?",
        )
    steps = [
        f"The {word} is ${max(old, new)} - {min(old, new)} = {change}$.",
        f"As a share of the old value: $\\frac{{{change}}}{{{old}}} \\times 100\\% "
        f"= {percent}\\%$.",
    ]
    return WorkedProblem(text, steps, f"{percent}\\%")


def ratio_share(rng: random.Random) -> WorkedProblem:
    a, b = rng.sample(range(1, 8), 2)
    unit = rng.randint(2, 12)
    total = (a + b) * unit
    first, second = rng.sample(NAMES, 2)
    text = pick(
        rng,
        f"{first} and {second} share {total} dollars in the ratio {a}:{b}. "
        f"How many dollars does {second} get?",
        f"Divide {total} in the ratio {a} : {b}. What is the second part?",
    )
    steps = [
        f"The ratio has ${a} + {b} = {a + b}$ parts.",
        f"One part is ${total} \\div {a + b} = {unit}$.",
        f"The second share is ${b} \\times {unit} = {b * unit}$.",
    ]
    return WorkedProblem(text, steps, str(b * unit))


def speed_distance(rng: random.Random) -> WorkedProblem:
    speed, hours = rng.randint(3, 90), rng.randint(2, 6)
    distance = speed * hours
    if rng.random() < 0.5:
        text = pick(
            rng,
            f"A car travels at {speed} km per hour for {hours} hours. How far does it go, in km?",
            f"A cyclist rides for {hours} hours at {speed} km/h. How many km does she ride?",
        )
        steps = [f"Distance is speed times time: ${speed} \\times {hours} = {distance}$."]
        return WorkedProblem(text, steps, str(distance))
    text = pick(
        rng,
        f"A train covers {distance} km in {hours} hours. What is its average speed in km/h?",
        f"{rng.choice(NAMES)} walks {distance} km in {hours} hours. How many km per hour is that?",
    )
    steps = [f"Speed is distance divided by time: ${distance} \\div {hours} = {speed}$."]
    return WorkedProblem(text, steps, str(speed))


def runner_speed(rng: random.Random) -> WorkedProblem:
    speed, hours = rng.randint(3, 20), rng.randint(2, 6)
    text = (
        f"Runner R covers {speed * hours} km in {hours} hours at a constant speed $v_{{R}}$. "
        "Find $v_{R}$ in km/h."
    )
    steps = [
        "Speed is distance divided by time.",
        f"$v_{{R}} = \\frac{{{speed * hours}}}{{{hours}}} = {speed}$ km/h.",
    ]
    return WorkedProblem(text, steps, f"v_{{R}}={speed}")


def unit_price(rng: random.Random) -> WorkedProblem:
    price, count = rng.randint(2, 15), rng.randint(3, 12)
    more = rng.randint(2, 9)
    text = pick(
        rng,
        f"{count} pens cost {price * count} dollars. How much do {more} pens cost, in dollars?",
        f"If {count} tickets cost {price * count} dollars, what do {more} tickets cost?",
    )
    steps = [
        f"One costs ${price * count} \\div {count} = {price}$.",
        f"Then ${more} \\times {price} = {more * price}$.",
    ]
    return WorkedProblem(text, steps, str(more * price))


def unit_conversion(rng: random.Random) -> WorkedProblem:
    big, one, small, factor = rng.choice(UNITS)
    amount = rng.randint(2, 12)
    if rng.random() < 0.5:
        text = pick(
            rng,
            f"How many {small} are in {amount} {big}?",
            f"Convert {amount} {big} to {small}.",
        )
        steps = [f"1 {one} is {factor} {small}: ${amount} \\times {factor} = {amount * factor}$."]
        return WorkedProblem(text, steps, str(amount * factor))
    text = pick(
        rng,
        f"How many {big} are {amount * factor} {small}?",
        f"Convert {amount * factor} {small} to {big}.",
    )
    steps = [f"1 {one} is {factor} {small}: ${amount * factor} \\div {factor} = {amount}$."]
    return WorkedProblem(text, steps, str(amount))


def mean(rng: random.Random) -> WorkedProblem:
    count = rng.randint(3, 6)
    values = [rng.randint(1, 40) for _ in range(count - 1)]
    average = rng.randint(max(values) // 2 + 1, 40)
    values.append(average * count - sum(values))
    rng.shuffle(values)
    listed = ", ".join(map(str, values))
    text = pick(
        rng,
        f"What is the mean of {listed}?",
        f"Find the average of the numbers {listed}.",
        f"{rng.choice(NAMES)} scored {listed} points in {count} games. "
        "What was the average score per game?",
    )
    running, steps = values[0], []
    for value in values[1:]:
        steps.append(f"${running} + {value} = {running + value}$.")
        running += value
    steps.append(f"Divide the total by {count}: ${running} \\div {count} = {average}$.")
    return WorkedProblem(text, ["Add the numbers.", *steps], str(average), "Algebra")


def median(rng: random.Random) -> WorkedProblem:
    count = rng.choice((5, 7, 4, 6))
    values = rng.sample(range(1, 60), count)
    ordered = sorted(values)
    middle = count // 2
    text = pick(
        rng,
        f"Find the median of {', '.join(map(str, values))}.",
        f"What is the median of the list {', '.join(map(str, values))}?",
    )
    steps = [f"Sort the numbers: {', '.join(map(str, ordered))}."]
    if count % 2:
        answer = str(ordered[middle])
        steps.append(f"The middle one of {count} numbers is number {middle + 1}: {answer}.")
    else:
        low, high = ordered[middle - 1], ordered[middle]
        answer = f"{(low + high) / 2:g}"
        steps.append(f"With {count} numbers, average the two middle ones: {low} and {high}.")
        steps += add_steps(low, high)[-1:]
        steps.append(f"${low + high} \\div 2 = {answer}$.")
    return WorkedProblem(text, steps, answer)


FAMILIES = {
    "percent_of": percent_of,
    "percent_change": percent_change,
    "ratio_share": ratio_share,
    "speed_distance": speed_distance,
    "runner_speed": runner_speed,
    "unit_price": unit_price,
    "unit_conversion": unit_conversion,
    "mean": mean,
    "median": median,
}
