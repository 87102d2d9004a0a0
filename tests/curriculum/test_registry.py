"""Every family of the curriculum, checked the same way: its answers are right (recomputed
from the problem text where the family is plain arithmetic), its solutions box them, it
varies its phrasing and its numbers, and it is a pure function of its random generator."""

import random
import re
from fractions import Fraction

import pytest

from mathtune.curriculum.registry import FAMILIES
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
