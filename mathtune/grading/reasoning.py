r"""Step 4 of grading: score how step-by-step a completion's reasoning is, in [0, 1].

Half of the score is steps and half is equations: a chain of steps without computation,
or equations without an argument around them, each earn only half. The text is cut into
units: lines, and sentences within a line. Then:

- a unit is a step when it opens with a marker ("Step 2:", "2.", "2)", "-", "*", "•", "#",
  "(a)") or with a word that moves an argument on ("First", "Next", "Then", "So",
  "Therefore", "Substituting", ... in STEP_WORDS);
- a unit holds an equation when "=" (or "\approx", "≈") has something on both sides;
- score = 0.5 * min(steps / TARGET_STEPS, 1) + 0.5 * min(equations / TARGET_EQUATIONS, 1).

A repeated unit counts once, so repetition cannot raise the score. The whole completion is
scored, reasoning inside `<think>` included: that is where the steps are.

    >>> score_reasoning("Step 1: 2 + 3 = 5.\nStep 2: 5 * 2 = 10.\nSo the answer is 10.")
    1.0
    >>> score_reasoning("The answer is 10.")
    0.0
"""

from __future__ import annotations

import re

TARGET_STEPS = 3  # three steps already make a chain; more earn no more
TARGET_EQUATIONS = 2  # one worked equation and a result
STEP_WORDS = (
    *("first", "firstly", "second", "secondly", "third", "next", "then", "now", "so"),
    *("thus", "therefore", "hence", "finally", "since", "because", "plugging"),
    *("substituting", "substitute", "solving", "solve", "simplifying", "simplify"),
    *("computing", "compute", "calculating", "calculate", "multiplying", "multiply"),
    *("dividing", "divide", "adding", "add", "subtracting", "subtract", "expanding"),
    *("expand", "factoring", "factor", "rearranging", "combining", "checking", "check"),
    *("verifying", "verify"),
)

_UNIT_BREAK = re.compile(r"\n+|</?think>|(?<=[.!?])\s+(?=[A-Z])")
_LIST_NUMBER = re.compile(r"\d+[.)]")
_STEP_MARKER = re.compile(
    rf"[\s*#]*(?:(?:step|case)\s*\d+|\d+[.)]\s|[-*•#]\s|\([a-z0-9]\)\s|(?:{'|'.join(STEP_WORDS)})\b)",
    re.IGNORECASE,
)
_EQUATION = re.compile(r"[\w)}\]|]\s*(?:(?<![=<>!])=(?!=)|\\approx|≈)\s*[-\w(\\{\[|.$]")


def score_reasoning(text: str) -> float:
    """Step-by-step quality of `text` in [0, 1]; see the module docstring for the rules."""
    if not isinstance(text, str):
        return 0.0
    units = set(_units(text))
    steps = sum(1 for unit in units if _STEP_MARKER.match(unit))
    equations = sum(1 for unit in units if _EQUATION.search(unit))
    step_score = min(steps / TARGET_STEPS, 1.0)
    equation_score = min(equations / TARGET_EQUATIONS, 1.0)
    return 0.5 * step_score + 0.5 * equation_score


def _units(text: str) -> list[str]:
    """Lines and sentences; a list number split off as a "sentence" ("1.") rejoins its text."""
    units: list[str] = []
    for piece in _UNIT_BREAK.split(text):
        piece = piece.strip()
        if units and _LIST_NUMBER.fullmatch(units[-1]):
            units[-1] = f"{units[-1]} {piece}"
        elif piece:
            units.append(piece)
    return units
