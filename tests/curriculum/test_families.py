"""Every family of the curriculum, checked the same way: its answers are right (recomputed
from the problem text where the family is plain arithmetic), its solutions box them, it
varies its phrasing and its numbers, and it is a pure function of its random generator."""

import math
import random
import re
from fractions import Fraction

import pytest

from mathtune.curriculum import FAMILIES
from mathtune.curriculum.rows import write_solution
from mathtune.grading.grader import grade_completion

SAMPLES = 40


def problems(name: str) -> list:
    return [FAMILIES[name](random.Random(f"test:{seed}")) for seed in range(SAMPLES)]


def test_the_curriculum_has_many_families():
    assert len(FAMILIES) >= 25


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_family_is_deterministic_varied_and_boxes_its_answer(name):
    first, again = problems(name), problems(name)
    assert first == again
    assert len({problem.problem for problem in first}) >= SAMPLES // 4
    for problem in first:
        assert problem.steps and problem.answer
        assert grade_completion(write_solution(problem), problem.answer).correct, problem


@pytest.mark.parametrize(
    "name",
    [
        "addition",
        "subtraction",
        "multiplication",
        "exact_division",
        "negative_numbers",
        "order_of_operations",
    ],  # fmt: skip
)
def test_arithmetic_answers_equal_the_expression_evaluated(name):
    for problem in problems(name):
        text = problem.problem.replace("\\times", "*").replace("\\cdot", "*").replace("\\div", "/")
        text = re.sub(r"\\frac\{(\d+)\}\{(\d+)\}", r"\1 / \2", text)
        numbers = re.findall(r"-?\d+", text)
        if " plus " in text or "sum of" in text or text.startswith("Add "):
            expected = int(numbers[0]) + int(numbers[1])
        elif " minus " in text or "difference" in text:
            expected = int(numbers[0]) - int(numbers[1])
        elif text.startswith("Subtract "):
            expected = int(numbers[1]) - int(numbers[0])
        elif " times " in text or "product of" in text or text.startswith("Multiply "):
            expected = int(numbers[0]) * int(numbers[1])
        elif "divided by" in text or text.startswith("Divide "):
            expected = int(numbers[0]) // int(numbers[1])
        else:
            expression = re.sub(r"^[^\d(-]*|[?.$]*$", "", text.replace("$", ""))
            expected = eval(expression, {"__builtins__": {}})  # digits and operators only
        assert Fraction(problem.answer) == expected, problem.problem


def test_multiple_choice_and_units_keep_the_answer_shapes_rewards_need():
    assert all(p.question_type == "MCQ" for p in problems("remainder_choice"))
    assert any("\\mathrm{~cm}" in p.answer for p in problems("rectangle"))
    assert all(re.fullmatch(r"x=-?\d+, y=-?\d+", p.answer) for p in problems("linear_system"))


EUCLID_LINE = re.compile(r"\$(\d+) = (\d+) \\times (\d+) \+ (\d+)\$\.")


def assert_euclid_finds_the_gcd(steps: list[str], a: int, b: int) -> None:
    """The steps run Euclid's algorithm on a and b, each division right, to their gcd."""
    divisions = [tuple(map(int, m.groups())) for m in map(EUCLID_LINE.fullmatch, steps) if m]
    assert divisions, steps
    expected_pair = (max(a, b), min(a, b))
    for x, quotient, y, remainder in divisions:
        assert (x, y) == expected_pair and x == quotient * y + remainder and remainder < y
        expected_pair = (y, remainder)
    assert expected_pair[1] == 0
    gcd_line = f"$\\gcd({max(a, b)}, {min(a, b)}) = {expected_pair[0]}$."
    assert any(step.endswith(gcd_line) for step in steps), steps


@pytest.mark.parametrize(
    ("name", "operands"),
    [
        ("gcd", r"(\d+)\D+(\d+)"),  # the two numbers of the question
        ("lcm", r"(\d+)\D+(\d+)"),
        ("fraction_simplify", r"(\d+)(?:/|\}\{)(\d+)"),  # n/d or \frac{n}{d}
    ],
    ids=["gcd", "lcm", "fraction_simplify"],
)
def test_every_gcd_is_found_by_euclid_not_stated(name, operands):
    for problem in problems(name):
        a, b = map(int, re.search(operands, problem.problem).groups())
        assert_euclid_finds_the_gcd(problem.steps, a, b)
        if name == "gcd":
            assert problem.answer == str(math.gcd(a, b))
        if name == "fraction_simplify":
            common = math.gcd(a, b)
            assert problem.steps[-1] == (
                f"Divide both by {common}: ${a} \\div {common} = {a // common}$ and "
                f"${b} \\div {common} = {b // common}$."
            )
