"""Shapes: rectangle, square and triangle areas and perimeters, and angles in a triangle,
on a straight line and around a point.

    >>> import random
    >>> triangle_angle(random.Random(0)).problem_type
    'Geometry'
"""

from __future__ import annotations

import random

from mathtune.curriculum.problems import WorkedProblem, pick
from mathtune.curriculum.steps import add_steps, multiply_steps


def rectangle(rng: random.Random) -> WorkedProblem:
    length, width = rng.randint(3, 15), rng.randint(2, 12)
    text = f"A rectangle is {length} cm long and {width} cm wide. "
    if rng.random() < 0.5:
        area = length * width
        steps = [f"Area is length times width: ${length} \\times {width} = {area}$."]
        answer = f"{area}\\mathrm{{~cm}}^{{2}}"
        return WorkedProblem(text + "What is its area?", steps, answer, "Geometry")
    perimeter = 2 * (length + width)
    steps = [
        f"Perimeter is twice the sum of the sides: $2 \\times ({length} + {width}) = {perimeter}$."
    ]
    return WorkedProblem(
        text + "What is its perimeter?", steps, f"{perimeter}\\mathrm{{~cm}}", "Geometry"
    )


def area(rng: random.Random) -> WorkedProblem:
    if rng.random() < 0.5:
        base, height = 2 * rng.randint(2, 15), rng.randint(3, 20)
        text = pick(
            rng,
            f"A triangle has base {base} and height {height}. What is its area?",
            f"Find the area of a triangle with a base of {base} m and a height of {height} m, "
            "in square meters.",
        )
        steps = [
            "The area of a triangle is half of base times height.",
            f"Half the base is ${base} \\div 2 = {base // 2}$.",
            *multiply_steps(base // 2, height),
        ]
        return WorkedProblem(text, steps, str(base // 2 * height), "Geometry")
    length, width = rng.randint(11, 40), rng.randint(3, 9)
    text = pick(
        rng,
        f"A garden is {length} meters long and {width} meters wide. What is its area "
        "in square meters?",
        f"What is the area of a {length} by {width} rectangle?",
    )
    steps = ["Area is length times width.", *multiply_steps(length, width)]
    return WorkedProblem(text, steps, str(length * width), "Geometry")


def perimeter(rng: random.Random) -> WorkedProblem:
    shape = rng.choice(("square", "triangle", "rectangle"))
    if shape == "square":
        side = rng.randint(3, 40)
        text = pick(
            rng,
            f"A square has sides of {side} cm. What is its perimeter in cm?",
            f"Find the perimeter of a square with side length {side}.",
        )
        steps = [f"A square has 4 equal sides: $4 \\times {side} = {4 * side}$."]
        return WorkedProblem(text, steps, str(4 * side), "Geometry")
    if shape == "triangle":
        a, b, c = sorted(rng.sample(range(5, 30), 3))
        text = f"A triangle has sides {a}, {b} and {c}. What is its perimeter?"
        steps = [f"Add the sides: ${a} + {b} = {a + b}$.", *add_steps(a + b, c)]
        return WorkedProblem(text, steps, str(a + b + c), "Geometry")
    length, width = rng.randint(10, 60), rng.randint(5, 30)
    text = f"A field is {length} m long and {width} m wide. How many meters of fence go around it?"
    steps = [
        *add_steps(length, width),
        f"Twice that: $2 \\times {length + width} = {2 * (length + width)}$.",
    ]
    return WorkedProblem(text, steps, str(2 * (length + width)), "Geometry")


def triangle_angle(rng: random.Random) -> WorkedProblem:
    a = rng.randint(20, 100)
    b = rng.randint(20, 160 - a)
    text = pick(
        rng,
        f"Two angles of a triangle are {a}° and {b}°. What is the third angle, in degrees?",
        f"In triangle ABC, angle A = {a} degrees and angle B = {b} degrees. Find angle C.",
        f"A triangle has angles of ${a}^\\circ$ and ${b}^\\circ$. Find its third angle.",
    )
    steps = [
        "The angles of a triangle add up to 180°.",
        f"${a} + {b} = {a + b}$, and $180 - {a + b} = {180 - a - b}$.",
    ]
    return WorkedProblem(text, steps, str(180 - a - b), "Geometry")


def line_angle(rng: random.Random) -> WorkedProblem:
    if rng.random() < 0.5:
        a = rng.randint(15, 165)
        text = pick(
            rng,
            f"Two angles on a straight line are x and {a}°. Find x in degrees.",
            f"What is the supplement of an angle of {a} degrees?",
        )
        steps = ["Angles on a straight line add up to 180°.", f"$180 - {a} = {180 - a}$."]
        return WorkedProblem(text, steps, str(180 - a), "Geometry")
    a = rng.randint(5, 85)
    text = pick(
        rng,
        f"What is the complement of an angle of {a} degrees?",
        f"Two angles form a right angle. One is {a}°. What is the other, in degrees?",
    )
    steps = ["Complementary angles add up to 90°.", f"$90 - {a} = {90 - a}$."]
    return WorkedProblem(text, steps, str(90 - a), "Geometry")


FAMILIES = {
    "rectangle": rectangle,
    "area": area,
    "perimeter": perimeter,
    "triangle_angle": triangle_angle,
    "line_angle": line_angle,
}
