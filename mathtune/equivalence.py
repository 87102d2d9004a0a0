r"""Decide whether a predicted answer equals the gold one; check a whole completion.

The rules, in order:

1. Multiple choice: a gold that is one letter A-E matches the letter the prediction names
   ("B", "(b)", "\text{(B)} 12"), and nothing else.
2. Structure: several values match as a set ("2, 3" = "3, 2", so two lists that share only
   their last number differ); tuples, points and intervals match in order and with the same
   brackets ("[1, 2)" ≠ "(1, 2)"); a bare list matches a tuple in order. Named values match
   by name ("x=2, y=-1" = "y=-1, x=2"), and unnamed values match them in order ("2, -1" =
   "x=2, y=-1" ≠ "-1, 2"). An equation matches its right-hand side when the other side is a
   value ("x = 3" = "3"), but two names must agree ("x = 3" ≠ "y = 3").
3. Values: exact values (integers, fractions, radicals, π) must be equal. A decimal matches
   within a relative REL_TOL and never beyond half a unit in its last printed digit:
   0.333333 = 1/3, but 0.333 ≠ 1/3 and 1000000.5 ≠ 1000001. A percentage also matches its
   fraction and a degree its radians (25% = 0.25 = 25, 30° = π/6 = 30). Expressions are
   compared at sample points (x+1 = 1+x, 2√2 = √8, \frac{1}{2} = 0.5).
4. Otherwise the cleaned strings must be equal, ignoring case for words ("\text{No}" = "no").

    >>> answers_match(r"\frac{1}{2}", "0.5"), answers_match("1, 2, 3", "4, 5, 3")
    (True, False)
    >>> check_answer(r"<think>x=3?</think> So $x = \boxed{4}$.", "4")
    AnswerCheck(extracted='4', strategy='boxed', correct=True)
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from mathtune.answers import extract_answer
from mathtune.normalization import MAX_ANSWER_CHARS, Group, Leaf, clean_latex, normalize_answer
from mathtune.values import Scalar, Value, evaluate_expression

logger = logging.getLogger(__name__)

REL_TOL = Fraction(1, 10**6)  # for decimals: "agrees to about six significant digits"
FLOAT_REL_TOL = 1e-9  # for exact values computed in floating point (√8 vs 2√2)
FLOAT_ABS_TOL = 1e-12  # float noise around zero: sin(π) is 1.2e-16
MAX_COMPARISONS = 10_000  # leaf comparisons per call: bounds lists of lists; ~3 µs each

_GOLD_CHOICE = re.compile(r"\(?([A-E])\)?")
_PREDICTED_CHOICE = re.compile(
    r"(?:option|choice|answer)?\s*\(?([A-E])\)?(?:[.:)]?\s.*|[.:])?", re.IGNORECASE | re.DOTALL
)
_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}")  # "yes", "even": text, not a product


@dataclass(frozen=True)
class AnswerCheck:
    """What was read from a completion, how, and whether it equals the gold answer."""

    extracted: str | None
    strategy: str | None
    correct: bool


class _BudgetSpent(Exception):
    """More than MAX_COMPARISONS value comparisons were needed."""


def check_answer(completion: str, gold: str) -> AnswerCheck:
    """Extract the final answer from `completion` and compare it with `gold`; never raises."""
    try:
        extracted = extract_answer(completion)
    except Exception as err:  # model output is untrusted: a bug here must not end a run
        logger.warning("answer extraction failed (%r); scored incorrect", err)
        extracted = None
    if extracted is None:
        return AnswerCheck(None, None, False)
    return AnswerCheck(extracted.text, extracted.strategy, answers_match(extracted.text, gold))


def answers_match(predicted: str, gold: str) -> bool:
    """Whether two extracted answers are equal by the rules above; never raises."""
    if not isinstance(predicted, str) or not isinstance(gold, str):
        return False
    predicted, gold = predicted.strip(), gold.strip()
    if not predicted or not gold:
        return False
    if len(predicted) > MAX_ANSWER_CHARS or len(gold) > MAX_ANSWER_CHARS:
        return predicted == gold
    try:
        return _answers_match(predicted, gold)
    except Exception as err:  # model output is untrusted: a bug here must not end a run
        logger.warning("answer comparison failed (%r); scored incorrect", err)
        return False


# Caches stay small: each entry is more for the garbage collector to walk on every full pass.
@lru_cache(maxsize=8192)  # answers are capped at 1000 characters: at most ~16 MB
def _answers_match(predicted: str, gold: str) -> bool:
    gold_choice = _GOLD_CHOICE.fullmatch(clean_latex(gold))
    if gold_choice is not None:
        predicted_choice = _PREDICTED_CHOICE.fullmatch(clean_latex(predicted))
        return predicted_choice is not None and predicted_choice[1].upper() == gold_choice[1]
    try:
        return _nodes_match(normalize_answer(predicted), normalize_answer(gold), [MAX_COMPARISONS])
    except _BudgetSpent:
        return False


def _nodes_match(predicted: Leaf | Group, gold: Leaf | Group, budget: list[int]) -> bool:
    predicted, gold = _unwrap(predicted), _unwrap(gold)
    if isinstance(predicted, Leaf) and isinstance(gold, Leaf):
        budget[0] -= 1
        if budget[0] < 0:
            raise _BudgetSpent
        return _leaves_match(predicted, gold)
    if isinstance(predicted, Group) and isinstance(gold, Group):
        return _groups_match(predicted, gold, budget)
    return False


def _unwrap(node: Leaf | Group) -> Leaf | Group:
    """One value in a bare list or a set is just that value: "\\{2\\}" = "2"."""
    while isinstance(node, Group) and len(node.items) == 1 and node.brackets in ("", "{}"):
        node = node.items[0]
    return node


def _groups_match(predicted: Group, gold: Group, budget: list[int]) -> bool:
    if len(predicted.items) != len(gold.items):
        return False
    kinds = {predicted.brackets, gold.brackets}
    if len(kinds) == 2 and kinds not in ({"", "()"}, {"", "{}"}):
        return False
    if kinds & {"()", "[]", "[)", "(]"} or _names_give_order(predicted, gold):
        pairs = zip(predicted.items, gold.items, strict=True)
        return all(_nodes_match(p, g, budget) for p, g in pairs)
    return _unordered_match(predicted.items, gold.items, budget)


def _names_give_order(predicted: Group, gold: Group) -> bool:
    """Distinct names on one side and none on the other: "2, -1" is read as "x=2, y=-1"."""
    names = [[getattr(item, "name", None) for item in group.items] for group in (predicted, gold)]
    named = [all(group) and len(set(group)) == len(group) for group in names]
    unnamed = [not any(group) for group in names]
    return named[0] and unnamed[1] or named[1] and unnamed[0]


def _unordered_match(predicted: tuple, gold: tuple, budget: list[int]) -> bool:
    """A perfect matching between the two lists: Kuhn's algorithm, comparing pairs lazily."""
    if all(_is_plain_number(node) for node in predicted + gold):
        # Sorting pairs plain numbers in O(n log n), so a list of 150 roots stays cheap.
        pairs = zip(sorted(predicted, key=_number_key), sorted(gold, key=_number_key), strict=True)
        return all(_nodes_match(p, g, budget) for p, g in pairs)
    known: dict[tuple[int, int], bool] = {}
    owner: list[int | None] = [None] * len(gold)

    def matches(row: int, column: int) -> bool:
        if (row, column) not in known:
            known[row, column] = _nodes_match(predicted[row], gold[column], budget)
        return known[row, column]

    def assign(row: int, seen: set[int]) -> bool:
        for column in range(len(gold)):
            if column not in seen and matches(row, column):
                seen.add(column)
                if owner[column] is None or assign(owner[column], seen):
                    owner[column] = row
                    return True
        return False

    return all(assign(row, set()) for row in range(len(predicted)))


def _is_plain_number(node: Leaf | Group) -> bool:
    return isinstance(node, Leaf) and node.number is not None and not node.name and not node.scale


def _number_key(leaf: Leaf) -> Fraction | float:
    return leaf.number.value


@lru_cache(maxsize=8192)
def _leaves_match(predicted: Leaf, gold: Leaf) -> bool:
    if predicted.name and gold.name and predicted.name != gold.name:
        return False
    if _same_text(predicted, gold):
        return True
    predicted_values, gold_values = _leaf_values(predicted), _leaf_values(gold)
    return any(_values_close(p, g) for p in predicted_values for g in gold_values)


def _same_text(predicted: Leaf, gold: Leaf) -> bool:
    if predicted.scale != gold.scale:
        return False
    texts = [re.sub(r"\s+", "", leaf.text) for leaf in (predicted, gold)]
    if all(re.fullmatch(r"[A-Za-z]{2,}", text) for text in texts):
        return texts[0].casefold() == texts[1].casefold()
    return texts[0] == texts[1]


@lru_cache(maxsize=8192)
def _leaf_values(leaf: Leaf) -> tuple[Value, ...]:
    """The values a leaf may mean: 25% is 25 or 0.25; an equation is lhs - rhs, up to sign."""
    if leaf.number is not None:
        number = leaf.number
        value = Value((), (number.value,), rounded=number.ulp is not None, ulp=number.ulp)
    elif _WORD.search(leaf.text) or leaf.text.count("=") > 1:
        return ()
    elif "=" in leaf.text:
        lhs, rhs = leaf.text.split("=")
        forms = (evaluate_expression(f"{lhs}-({rhs})"), evaluate_expression(f"{rhs}-({lhs})"))
        return tuple(form for form in forms if form is not None)
    else:
        value = evaluate_expression(leaf.text)
    if value is None:
        return ()
    if leaf.scale == "percent":
        return value, _scaled(value, Fraction(1, 100))
    if leaf.scale == "degree":
        return value, _scaled(value, complex(math.pi / 180))
    return (value,)


def _scaled(value: Value, factor: Fraction | complex) -> Value:
    samples = tuple(None if s is None else s * factor for s in value.samples)
    ulp = value.ulp * factor if value.ulp is not None and isinstance(factor, Fraction) else None
    return Value(value.symbols, samples, value.rounded, ulp)


def _values_close(predicted: Value, gold: Value) -> bool:
    """Same symbols, and equal (within the tolerance rules) wherever both are defined."""
    if predicted.symbols != gold.symbols:
        predicted, gold = _constant(predicted), _constant(gold)  # sin²x + cos²x = 1
        if predicted is None or gold is None or predicted.symbols != gold.symbols:
            return False
    compared = 0
    for p, g in zip(predicted.samples, gold.samples, strict=True):
        if p is None or g is None:
            if p is not g:
                return False
            continue
        if not _numbers_close(p, g, predicted, gold):
            return False
        compared += 1
    return compared > 0


def _constant(value: Value) -> Value | None:
    """`value` without symbols if it takes the same value at every sample point."""
    if not value.symbols:
        return value
    first = value.samples[0]
    rest = value.samples[1:]
    if first is not None and all(s is not None and _numbers_close(s, first, value) for s in rest):
        return Value((), (first,), value.rounded, value.ulp)
    return None


def _numbers_close(p: Scalar | float, g: Scalar | float, *values: Value) -> bool:
    if isinstance(p, float) or isinstance(g, float):
        return p == g  # only infinities are plain floats: -∞ = -∞ and nothing else
    rounded = any(value.rounded for value in values)
    if isinstance(p, Fraction) and isinstance(g, Fraction) and not rounded:
        return p == g
    try:
        difference, size = abs(p - g), max(abs(p), abs(g))
    except OverflowError:
        return False  # an exact value past 1e308 against a float: they cannot be close
    if not rounded:
        return difference <= FLOAT_REL_TOL * size or difference <= FLOAT_ABS_TOL
    bound = REL_TOL * size
    ulps = [value.ulp for value in values if value.ulp is not None]
    if ulps:
        bound = min(bound, max(ulps) / 2)
    return difference <= bound
