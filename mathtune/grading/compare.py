r"""Step 2 of grading: decide whether an extracted answer equals the gold one.

math-verify (the verifier that labelled OpenR1-Math-220k) parses both sides and compares
them symbolically: sets, intervals, relations, equations, matrices, names on the left of an
`=`. Both answers go to it wrapped in `\boxed{}`: inside a box it reads `10, 4, 2` as the
set {10, 4, 2}, where bare text keeps only the last number (so `10, 4, 2` would equal
`4, 12, 2`). Before that, `answer_readings` rewrites what it misreads:

- thousands written with spaces (`1 000`, `10\ 000`), which it reads as a product;
- a decimal comma (`1,22`): read both as 1.22 and as the list {1, 22}, a match on either
  counts, as a human grader would accept either reading;
- percentages and degrees: `25%` is 25 or 0.25, `30°` is 30 or π/6;
- a currency sign or a unit glued to a number (`1,000.99€`, `12m²`), `1.5e3`, `2 1/2`;
- `x \in S` (compared as S) and matrices written as `\left[\begin{array}...\right]`.

Plain numbers and fractions on both sides are compared here, in-process (`compare_plain`),
with math-verify's rule: exact, or to 6 decimal places when one side is a decimal; so is a
multiple-choice gold ("B", "(B)"), which only the letter a prediction names can match
("(B) 12", "Option B"). Only the rest is sent to `answers_equal`, which runs in a worker
process (see `pool`), since its parser can run for minutes on adversarial LaTeX.

    >>> answer_readings(r"1 000 \$"), answer_readings("1,22"), answer_readings("25%")
    (['1000'], ['1.22', '1,22'], ['25', '\\frac{25}{100}'])
    >>> compare_plain(r"\frac{1}{2}", "0.5"), compare_plain("x+1", "1+x")
    (True, None)
    >>> answers_equal("(x+1)^2", "x^2 + 2x + 1"), answers_equal("10, 4, 2", "4, 12, 2")
    (True, False)
"""

from __future__ import annotations

import logging
import re
from fractions import Fraction

MAX_ANSWER_CHARS = 1000  # longer answers are compared as exact strings only
MAX_PLAIN_CHARS = 100  # longer numbers go to the pool; int() refuses over 4300 digits
FLOAT_ROUNDING = 6  # decimal places, as math-verify's verify(float_rounding=6)

_DELIMITERS = re.compile(r"^(?:\$\$?|\\\(|\\\[)\s*(.*?)\s*(?:\$\$?|\\\)|\\\])$", re.DOTALL)
_UNICODE = str.maketrans(
    {"−": "-", "–": "-", "²": "^2", "³": "^3", "×": r"\times ", "·": r"\cdot ", "π": r"\pi ",
     "∞": r"\infty ", "≤": r"\le ", "≥": r"\ge ", "≠": r"\neq ", "√": r"\sqrt", "∪": r"\cup ",
     "∈": r"\in ", "±": r"\pm ", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "€": "",
     "£": "", "¥": "", "₹": ""}
)  # fmt: skip
_NUMBER = r"[-+]?(?:\d+(?:\.\d+)?|\.\d+)"
_UNIT = (
    r"(?:[kcmμ]?m|[km]?g|s|h|min|hr|hrs|km/h|m/s|ml|mL|l|L|°C|°F)"
    r"(?:\^\{?[23]\}?)?"
)
# Applied in order; each line says what it rewrites and why math-verify needs it.
_REWRITES = [
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        # currency signs: "\$10" and "€5" are 10 and 5; "\%" is read like "%" below
        (r"\\\$|\$|\\(?:euro|pounds|yen|textdollar)(?![a-zA-Z])", ""),
        (r"\\%", "%"),
        # Euler's number and the imaginary unit written upright
        (r"\\mathrm\{([ei])\}", r"\1"),
        # angle brackets around a vector: math-verify reads <1, 2> as 1.2
        (r"\\langle\s*", "("),
        (r"\s*\\rangle", ")"),
        # thousands groups after a space-like separator: "1 000", "10\ 000", "11,\! 111";
        # math-verify reads "1 000" as the product 1*000 (a comma alone it reads right)
        (
            r"(?<![\d.])\d{1,3}(?:(?:\s|\\[ ,!;:]|~|,\\!\s*)+\d{3})+(?![\d.])",
            lambda m: re.sub(r"\s|\\[ ,!;:]|~|,\\!", "", m.group()),
        ),
        # scientific notation "1.5e3", which math-verify reads as 1.5*e*3
        (rf"^({_NUMBER})[eE]([-+]?\d+)$", r"\1\\times 10^{\2}"),
        # a mixed number with a slash "2 1/2"
        (r"^([-+]?\d+)\s+(\d+)\s*/\s*(\d+)$", r"\1\\frac{\2}{\3}"),
        # a unit glued to a number, also after a name: "12m^2", "v = 4 m/s"
        (rf"^((?:[^=]*=\s*)?[-+]?[\d.,{{}}]*\d)\s*{_UNIT}$", r"\1"),
        # "\quad" alone between two values separates them: "2 \quad 3"
        (r"(?<=[\d)\]])\s*\\q?quad\s*(?=[-+\d(\[])", ", "),
        # membership "x \in [-2, 7]": the set is the answer
        (r"^[A-Za-z](?:_\{?\w+\}?)?\s*\\in\s*(?=\S)", ""),
        # an array in brackets is a matrix: bmatrix, or pmatrix in parentheses
        (
            r"\\left\s*\[\s*\\begin\{array\}\{[^{}]*\}(.*?)\\end\{array\}\s*\\right\s*\]",
            r"\\begin{bmatrix}\1\\end{bmatrix}",
        ),
        (
            r"\\left\s*\(\s*\\begin\{array\}\{[^{}]*\}(.*?)\\end\{array\}\s*\\right\s*\)",
            r"\\begin{pmatrix}\1\\end{pmatrix}",
        ),
    )
]
_DECIMAL_COMMA = re.compile(r"^([-+]?\d+)(?:,|\{,\})(\d+)$")
_PERCENT = re.compile(rf"^({_NUMBER})\s*(?:%|percent)$")
_DEGREES = re.compile(rf"^({_NUMBER})\s*(?:\^\s*\{{?\s*\\circ\s*\}}?|°|\s*degrees?)$")
_TEXT = re.compile(r"\\(?:text|textbf|mathrm|mathbf)\s*\{([^{}]*)\}")
_GOLD_CHOICE = re.compile(r"\(?([A-E])\)?")
_PREDICTED_CHOICE = re.compile(
    r"(?:option|choice|answer)?\s*\(?([A-E])\)?(?:[.:)]?\s.*|[.:])?", re.IGNORECASE | re.DOTALL
)
_NAMED = re.compile(r"([A-Za-z](?:_\{?\w+\}?)?)\s*=\s*([^=]+)")
_SET = re.compile(r"\\\{.*\\\}")
_BRACKETED = re.compile(r"[(\[][^()\[\]]*[)\]]")  # one flat tuple or interval
_PLAIN = re.compile(
    r"^(?P<sign>[-+]?)\s*(?:(?P<int>\d+)(?:\.(?P<dec>\d+))?|\.(?P<frac_only>\d+)"
    r"|(?P<num>\d+)\s*/\s*(?P<den>\d+)|\\[dt]?frac\s*\{\s*(?P<fnum>\d+)\s*\}\s*\{\s*(?P<fden>\d+)\s*\})$"
)


def answer_readings(answer: str) -> list[str]:
    """`answer` rewritten where math-verify would misread it, in every reading a human
    grader would accept: a decimal comma "1,22" is 1.22 or the list {1, 22}; "25%" is 25
    or 0.25; "30°" is 30 or π/6."""
    text = answer.strip().rstrip(" .,;\\").strip()
    unwrapped = _DELIMITERS.match(text)
    text = (unwrapped.group(1) if unwrapped else text).translate(_UNICODE)
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text).strip()
    decimal = _DECIMAL_COMMA.match(text)
    if decimal and len(decimal.group(2)) != 3:  # "10,455" is ten thousand and more
        return [f"{decimal.group(1)}.{decimal.group(2)}", text]
    if match := _PERCENT.match(text):
        return [match.group(1), f"\\frac{{{match.group(1)}}}{{100}}"]
    if match := _DEGREES.match(text):
        return [match.group(1), f"\\frac{{{match.group(1)}\\pi}}{{180}}"]
    return [text]


def compare_plain(predicted: str, gold: str) -> bool | None:
    """The verdict when the gold is a choice letter or both answers are plain numbers or
    fractions, else None."""
    if len(predicted) > MAX_PLAIN_CHARS or len(gold) > MAX_PLAIN_CHARS:
        return None
    if gold_choice := _GOLD_CHOICE.fullmatch(_TEXT.sub(r"\1", gold).strip()):
        predicted_choice = _PREDICTED_CHOICE.fullmatch(_TEXT.sub(r"\1", predicted).strip())
        return predicted_choice is not None and predicted_choice[1].upper() == gold_choice[1]
    sides = []
    for answer in (predicted, gold):
        values = [_plain_number(reading) for reading in answer_readings(answer)]
        if None in values:
            return None
        sides.append(values)
    return any(_numbers_equal(p, g) for p in sides[0] for g in sides[1])


def _numbers_equal(predicted: tuple[Fraction, bool], gold: tuple[Fraction, bool]) -> bool:
    (p, p_is_decimal), (g, g_is_decimal) = predicted, gold
    if p_is_decimal or g_is_decimal:
        return round(p, FLOAT_ROUNDING) == round(g, FLOAT_ROUNDING)
    return p == g


def _plain_number(text: str) -> tuple[Fraction, bool] | None:
    """(value, written as a decimal) of an integer, decimal or fraction, else None."""
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
    """Values to compare in order when one side names them and the other lists them bare:
    "2, -1" is x=2, y=-1 and not y=2, x=-1, though math-verify compares both as sets."""
    sides = [_split_top_level(predicted), _split_top_level(gold)]
    if len(sides[0]) != len(sides[1]) or len(sides[0]) < 2:
        return None
    named = [[_NAMED.fullmatch(part) for part in side] for side in sides]
    for this, other in ((0, 1), (1, 0)):
        if all(named[this]) and not any(named[other]):
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
    # Imported here: only worker processes need sympy, which takes seconds to import.
    from math_verify import parse, verify

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
    # parsing_timeout/timeout_seconds=None: math-verify's SIGALRM timers fail outside the
    # main thread; the pool's deadline bounds the time instead.
    parsed_gold = parse(f"\\boxed{{{gold}}}", parsing_timeout=None)
    parsed = parse(f"\\boxed{{{predicted}}}", parsing_timeout=None)
    # allow_set_relation_comp: a gold interval [-2, 7] equals -2 <= x <= 7 either way round.
    return verify(parsed_gold, parsed, timeout_seconds=None, allow_set_relation_comp=True)


def _squeezed(text: str) -> str:
    """`text` with spaces and matrix brackets made uniform: pmatrix = bmatrix written alike."""
    return re.sub(r"\s+|\\left|\\right", "", text).replace("bmatrix", "pmatrix")


def silence_math_verify() -> None:
    """math-verify logs a warning per parse failure and once that timeouts are off (the pool
    bounds time instead); keep worker logs to errors."""
    logging.getLogger("math_verify").setLevel(logging.ERROR)
