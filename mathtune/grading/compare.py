r"""Step 2 of grading: decide whether an extracted answer equals the gold one.

math-verify (the verifier that labelled OpenR1-Math-220k) parses both sides and compares
them symbolically: sets, intervals, relations, equations, matrices, names on the left of an
`=`. Both answers go to it wrapped in `\boxed{}`: inside a box it reads `10, 4, 2` as the
set {10, 4, 2}, where bare text keeps only the last number (so `10, 4, 2` would equal
`4, 12, 2`). It compares every reading of one side with every reading of the other
(`mathtune.grading.readings`: the answer rewritten where math-verify misreads it), and two
things it gets wrong are decided before it: a set never equals a tuple or an interval, and
values listed bare take the names of a named list in order ("2, -1" is x=2, y=-1).

Answers written alike (spaces aside), and plain numbers and fractions on both sides, are
compared here, in-process (`compare_plain`), with math-verify's rule: exact, or to 6 decimal
places when one side is a decimal. Against a plain gold number, a sum or product of plain
numbers (`7 + 5 - 3`) is wrong: math-verify would evaluate it, so restating an arithmetic
question would count as its answer. Only the rest is sent to `answers_equal`, which runs in
a worker process (see `pool`), since its parser can run for minutes on adversarial LaTeX.
An answer that goes on ("1, 2, 3, ...") never equals one that stops.

    >>> compare_plain(r"\frac{1}{2}", "0.5"), compare_plain("25%", "0.25"), compare_plain("x", "y")
    (True, True, None)
    >>> answers_equal("(x+1)^2", "x^2 + 2x + 1"), answers_equal("10, 4, 2", "4, 12, 2")
    (True, False)
"""

from __future__ import annotations

import functools
import logging
import re
from fractions import Fraction

from mathtune.grading.choices import bare_text
from mathtune.grading.readings import answer_readings
from mathtune.grading.sentences import is_prose

PARSED_CACHE = 4096  # parsed answers kept per process; a parse is 1-20 ms, its result ~10 KB
MAX_ANSWER_CHARS = 1000  # longer answers are compared as exact strings only; ~1 ms of regex
MAX_PLAIN_CHARS = 5000  # longer answers go to the pool: sorting a longer list costs more
MAX_NUMBER_CHARS = 100  # a longer number goes to the pool; int() refuses over 4300 digits
FLOAT_ROUNDING = 6  # decimal places, as math-verify's verify(float_rounding=6)

_NAMED = re.compile(r"([A-Za-z](?:_\{?\w+\}?)?)\s*=\s*([^=]+)")
_SET = re.compile(r"\\\{.*\\\}")
_ELLIPSIS = re.compile(r"\.\.\.|…|\\[lc]?dots")
_BRACKETED = re.compile(r"[(\[][^()\[\]]*[)\]]")  # one flat tuple or interval
# Plain numbers joined by + - * / (or \times, \cdot, \div): "18271 * 43432", "7 + 5 - 3".
_ARITHMETIC = re.compile(
    r"[-+]?\s*\d+(?:\.\d+)?(?:\s*(?:[-+*/×÷·]|\\times|\\cdot|\\div)\s*[-+]?\s*\d+(?:\.\d+)?)+"
)
_PLAIN = re.compile(
    r"^(?P<sign>[-+]?)\s*(?:(?P<int>\d+)(?:\.(?P<dec>\d+))?|\.(?P<frac_only>\d+)"
    r"|(?P<num>\d+)\s*/\s*(?P<den>\d+)|\\[dt]?frac\s*\{\s*(?P<fnum>\d+)\s*\}\s*\{\s*(?P<fden>\d+)\s*\})$"
)


def compare_plain(predicted: str, gold: str) -> bool | None:
    """The verdict when both answers are written alike (spaces aside), or both are plain
    numbers, fractions or bare lists of them (equal as multisets: "3, 1, 2" = "1, 2, 3" but
    "2, 2" ≠ "2"), else None."""
    if len(predicted) > MAX_PLAIN_CHARS or len(gold) > MAX_PLAIN_CHARS:
        return None
    if _squeezed(predicted) == _squeezed(gold):
        return True  # written alike: no need to send it to a worker
    if bool(_ELLIPSIS.search(predicted)) != bool(_ELLIPSIS.search(gold)):
        return False  # "1, 2, 3, ..." goes on: it is not the list 1, 2, 3
    predicted_readings, gold_readings = (
        [_plain_values(reading) for reading in answer_readings(answer)]
        for answer in (predicted, gold)
    )
    if None in gold_readings:
        return None
    if None in predicted_readings:
        # A sum or product of plain numbers restates the question ("What is 18271 * 43432?")
        # rather than answering it. math-verify evaluates it and equates it with the result,
        # which would pay an RL policy in full for copying the problem.
        if _ARITHMETIC.fullmatch(bare_text(predicted)):
            return False
        # Words and no digit ("No answer") are no number; math-verify says so too, after
        # 20 ms of parsing them as symbols.
        return False if is_prose(predicted) and not re.search(r"\d", predicted) else None
    return any(_lists_equal(p, g) for p in predicted_readings for g in gold_readings)


def _plain_values(reading: str) -> list[tuple[Fraction, bool]] | None:
    """The numbers of a plain number or of a bare list of them, else None."""
    single = _plain_number(reading)
    if single is not None:
        return [single]
    values = [_plain_number(part.strip()) for part in reading.split(",")]
    return None if None in values or len(values) < 2 else values


def _lists_equal(predicted: list, gold: list) -> bool:
    if len(predicted) != len(gold):
        return False
    pairs = zip(sorted(predicted), sorted(gold), strict=True)
    return all(_numbers_equal(p, g) for p, g in pairs)


def _numbers_equal(predicted: tuple[Fraction, bool], gold: tuple[Fraction, bool]) -> bool:
    (p, p_is_decimal), (g, g_is_decimal) = predicted, gold
    if p_is_decimal or g_is_decimal:
        return round(p, FLOAT_ROUNDING) == round(g, FLOAT_ROUNDING)
    return p == g


def _plain_number(text: str) -> tuple[Fraction, bool] | None:
    """(value, written as a decimal) of an integer, decimal or fraction, else None."""
    if len(text) > MAX_NUMBER_CHARS:
        return None
    if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", text):
        text = text.replace(",", "")  # "10,455.5"
    match = _PLAIN.match(text)
    if match is None:
        return None
    sign = -1 if match["sign"] == "-" else 1
    if match["num"] or match["fnum"]:
        numerator, denominator = (
            (match["num"], match["den"]) if match["num"] else (match["fnum"], match["fden"])
        )
        if int(denominator) == 0:
            return None
        return sign * Fraction(int(numerator), int(denominator)), False
    digits = f"{match['int'] or 0}.{match['dec'] or match['frac_only'] or 0}"
    return sign * Fraction(digits), bool(match["dec"] or match["frac_only"])


def answers_equal(predicted: str, gold: str) -> bool:
    """Whether `predicted` equals `gold` by math-verify on every pair of readings.

    Unbounded in time on adversarial input: call it through `mathtune.grading.pool`.
    """
    if len(predicted) > MAX_ANSWER_CHARS or len(gold) > MAX_ANSWER_CHARS:
        return predicted.strip() == gold.strip()
    if bool(_ELLIPSIS.search(predicted)) != bool(_ELLIPSIS.search(gold)):
        return False  # "1, 2, 3, ..." goes on: it is not the list 1, 2, 3
    try:
        return any(
            _readings_equal(predicted_reading, gold_reading)
            for gold_reading in answer_readings(gold)
            for predicted_reading in answer_readings(predicted)
        )
    except Exception as err:  # model output is untrusted: a parser bug is a wrong answer
        logging.getLogger(__name__).warning("comparison failed (%r); scored incorrect", err)
        return False


def _ordered_by_names(predicted: str, gold: str) -> tuple[list[str], list[str]] | None:
    """Values to compare in order when one side names them (distinct names) and the other
    lists them bare: "2, -1" is x=2, y=-1 and not y=2, x=-1, though math-verify compares
    both as sets. "x = 2, x = 3" is a set of roots and stays one."""
    sides = [_split_top_level(predicted), _split_top_level(gold)]
    if len(sides[0]) != len(sides[1]) or len(sides[0]) < 2:
        return None
    named = [[_NAMED.fullmatch(part) for part in side] for side in sides]
    for this, other in ((0, 1), (1, 0)):
        names = {match.group(1) for match in named[this] if match}
        if all(named[this]) and len(names) == len(named[this]) and not any(named[other]):
            values = [match.group(2) for match in named[this]]
            return (values, sides[1]) if this == 0 else (sides[0], values)
    return None


def _split_top_level(text: str) -> list[str]:
    """`text` cut at the commas outside brackets and braces."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += (char in "([{") - (char in ")]}")
        if char == "," and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    return [*parts, text[start:].strip()]


def _readings_equal(predicted: str, gold: str) -> bool:
    from math_verify import verify  # imported here: only workers need sympy (seconds to load)

    squeezed = _squeezed(predicted), _squeezed(gold)
    if squeezed[0] == squeezed[1]:
        return True
    sets = [_SET.fullmatch(text) is not None for text in squeezed]
    bracketed = [_BRACKETED.fullmatch(text) is not None for text in squeezed]
    if (sets[0] and bracketed[1]) or (sets[1] and bracketed[0]):
        return False  # a set is not a tuple or an interval, which math-verify may equate
    ordered = _ordered_by_names(predicted, gold)
    if ordered is not None:
        pairs = zip(*ordered, strict=True)
        return all(_readings_equal(p, g) for p, g in pairs)
    # allow_set_relation_comp: a gold interval [-2, 7] equals -2 <= x <= 7 either way round.
    return verify(
        _parsed(gold), _parsed(predicted), timeout_seconds=None, allow_set_relation_comp=True
    )


@functools.lru_cache(maxsize=PARSED_CACHE)
def _parsed(answer: str) -> list:
    """math-verify's reading of `answer` in a box, kept: a gold is compared with each of the
    completions sampled for its problem. parsing_timeout=None: math-verify's SIGALRM timers
    fail outside the main thread; the CPU budget bounds the time instead."""
    from math_verify import parse  # imported here: only workers need sympy (seconds to load)

    return parse(f"\\boxed{{{answer}}}", parsing_timeout=None)


def _squeezed(text: str) -> str:
    """`text` with spaces and matrix brackets made uniform: pmatrix = bmatrix written alike."""
    return re.sub(r"\s+|\\left|\\right", "", text).replace("bmatrix", "pmatrix")


def silence_math_verify() -> None:
    """math-verify logs a warning per parse failure and once that timeouts are off (the pool
    bounds time instead); keep worker logs to errors."""
    logging.getLogger("math_verify").setLevel(logging.ERROR)
