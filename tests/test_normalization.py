"""Tests for mathtune.normalization: LaTeX cleaning and the structure of answers."""

from __future__ import annotations

import doctest
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mathtune.normalization
from mathtune.normalization import MAX_ANSWER_CHARS, Group, Leaf, clean_latex, normalize_answer


def render(node: Leaf | Group) -> str:
    """A compact picture of a tree: "<a | b>" is a bare list, "[1 | 2)" an interval."""
    if isinstance(node, Leaf):
        sign = {"percent": "%", "degree": "°", None: ""}[node.scale]
        return (f"{node.name}=" if node.name else "") + node.text + sign
    opening, closing = {"": "<>", "{}": "{}"}.get(node.brackets, node.brackets)
    return opening + " | ".join(render(item) for item in node.items) + closing


CLEANING = [
    # sizing, fraction variants and math delimiters
    (r"\left( \frac{1}{2} \right)", r"( \frac{1}{2} )"),
    (r"\dfrac{1}{2}", r"\frac{1}{2}"),
    ("$5$", "5"),
    (r"\displaystyle 5", "5"),
    # currency, thousands separators, trailing punctuation, typography
    (r"\$5", "5"),
    ("€5", "5"),
    ("1,000,000", "1000000"),
    (r"1\,000", "1000"),
    ("5.", "5"),
    ("**5**", "5"),
    ("−3", "-3"),
    ("π", r"\pi"),
    # stray and doubled backslashes
    (r"\\frac{1}{2}", r"\frac{1}{2}"),
    ("5\\", "5"),
    # relations, percent and degree words
    (r"x \leq 1", r"x \le 1"),
    (r"x \geqslant 2", r"x \ge 2"),
    ("25 percent", "25%"),
    ("30 degrees", "30°"),
    (r"30^{\circ}", "30°"),
    # \text: units after a value go, other text stays
    (r"4\mathrm{~m/s}", "4"),
    (r"12\text{ cm}^2", "12"),
    (r"\text{(B)}", "(B)"),
    (r"\text{No solution}", "No solution"),
    (r"3+4\mathrm{i}", "3+4 i"),
    # boxes inside an answer
    (r"\boxed{\boxed{7}}", "7"),
]


@pytest.mark.parametrize(("raw", "cleaned"), CLEANING)
def test_clean_latex(raw, cleaned):
    assert clean_latex(raw) == cleaned


STRUCTURES = [
    # plain values, with their signs and units dropped
    ("5", "5"),
    (r"\$1,000.", "1000"),
    (r"25\%", "25%"),
    (r"30^\circ", "30°"),
    (r"12\mathrm{~cm}^{2}", "12"),
    ("42 apples", "42"),
    ("5 m", "5"),
    ("3 x", "3 x"),
    ("about 5", "5"),
    (r"\approx 3.14", "3.14"),
    ("(5)", "5"),
    ("{5}", "5"),
    # several values
    ("2 and 3", "<2 | 3>"),
    (r"2 \text{ or } 3", "<2 | 3>"),
    ("0,5", "<0 | 5>"),
    (r"1 \pm \sqrt{2}", r"<1+\sqrt{2} | 1-(\sqrt{2})>"),
    (r"\begin{cases} x=1 \\ y=2 \end{cases}", "<x=1 | y=2>"),
    (r"x = 1 \quad y = 2", "<x=1 | y=2>"),
    # tuples, intervals, sets
    ("(1, 2)", "(1 | 2)"),
    ("(100,200)", "(100 | 200)"),
    ("(2,3),(3,2)", "<(2 | 3) | (3 | 2)>"),
    ("[-1, 3)", "[-1 | 3)"),
    (r"\{1, 2\}", "{1 | 2}"),
    (r"\{5\}", "{5}"),
    (r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}", "(1 | 2)"),
    (r"(-\infty, 1) \cup (2, \infty)", r"<(-\infty | 1) | (2 | \infty)>"),
    # assignments, membership and inequalities
    ("x=2, y=-1", "<x=2 | y=-1>"),
    (r"v_{R}=4\mathrm{~m/s}", "v_R=4"),
    (r"a_{n}=2^{n}-1", "a_n=2^{n}-1"),
    ("f(x)=x^2", "f(x)=x^2"),
    ("2 + 3 = 5", "5"),
    ("x^2+y^2=1", "x^2+y^2=1"),
    ("1 = x^2 + y^2", "1 = x^2 + y^2"),
    (r"x \in [0, 1]", "[0 | 1]"),
    ("x<1", r"(-\infty | 1)"),
    (r"x \ge 2", r"[2 | \infty)"),
    (r"-1 < x \le 3", "(-1 | 3]"),
    (r"3 \ge x > -1", "(-1 | 3]"),
]


@pytest.mark.parametrize(("answer", "structure"), STRUCTURES)
def test_normalize_answer_structure(answer, structure):
    assert render(normalize_answer(answer)) == structure


def test_plain_numbers_are_read():
    leaf = normalize_answer(r"-2\frac{1}{4}")
    assert isinstance(leaf, Leaf) and leaf.number is not None
    assert leaf.number.value == -2.25


def test_oversized_answer_is_kept_whole_and_fast():
    answer = "(" * MAX_ANSWER_CHARS + "1"
    start = time.perf_counter()
    assert normalize_answer(answer) == Leaf(text=answer, number=None)
    assert time.perf_counter() - start < 0.1


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=MAX_ANSWER_CHARS))
def test_never_raises_and_stays_fast(text):
    start = time.perf_counter()
    assert isinstance(normalize_answer(text), Leaf | Group)
    assert time.perf_counter() - start < 1.0  # the per-call bound


def test_docstring_examples_run():
    assert doctest.testmod(mathtune.normalization).failed == 0
