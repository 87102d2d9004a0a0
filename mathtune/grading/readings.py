r"""Rewrite an answer where math-verify would misread it, in every reading a person accepts.

Each rewrite says what it fixes; most are notations math-verify parses into something else
(`1 000` as the product 1*000, `1.5e3` as 1.5*e*3, `25\%` not at all):

- thousands written with spaces (`1 000`, `10\ 000`, `11,\! 111`);
- currency signs and units glued to a number (`1,000.99€`, `12m²`, `v = 4 m/s`);
- `1.5e3`, `2 1/2`, `0.\overline{3}`, `\langle 1, 2\rangle`, upright `\mathrm{e}`;
- math typed as code (`2*sqrt(2)`, `2**(1/4)`, `pi/2`) and equation environments;
- `x \in S` and set-builder `\{x \mid x > 2\}` (the set or relation is the answer); simple
  inequalities as intervals (`1 \le x < 3` is `[1, 3)`, `x < -2 \text{ or } x > 3` a
  union), which math-verify compares far faster than relations against sets;
- matrices written as arrays in brackets, and a one-column matrix as a tuple.

Some answers have two readings, and a match on either counts: a decimal comma `1,22` is
1.22 or the list {1, 22}; `25%` is 25 or 0.25 (also "25 percent", "25 pct", `4 4/9%`);
`30°` is 30 or π/6.

    >>> answer_readings(r"1 000 \$"), answer_readings("1,22"), answer_readings("12.5%")
    (['1000'], ['1.22', '1,22'], ['\\frac{25}{2}', '\\frac{1}{8}'])
    >>> answer_readings(r"-2 \le x < 3"), answer_readings(r"0.\overline{3}")
    (['[-2, 3)'], ['\\frac{1}{3}'])
"""

from __future__ import annotations

import re
from fractions import Fraction

_DELIMITERS = re.compile(r"^(?:\$\$?|\\\(|\\\[)\s*(.*?)\s*(?:\$\$?|\\\)|\\\])$", re.DOTALL)
_UNICODE = str.maketrans(
    {"−": "-", "–": "-", "²": "^2", "³": "^3", "×": r"\times ", "·": r"\cdot ", "π": r"\pi ",
     "∞": r"\infty ", "≤": r"\le ", "≥": r"\ge ", "≠": r"\neq ", "√": r"\sqrt", "∪": r"\cup ",
     "∈": r"\in ", "±": r"\pm ", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "€": "",
     "£": "", "¥": "", "₹": ""}
)  # fmt: skip
_NUMBER = r"[-+]?(?:\d+(?:\.\d+)?|\.\d+)"
_PERCENT_SIGN = r"(?:%|percentage|percent|per cent|pct)"
_UNIT = (
    r"(?:[kcmμ]?m|[km]?g|s|h|min|hr|hrs|km/h|m/s|ml|mL|l|L|°C|°F)"
    r"(?:\^\{?[23]\}?)?"
)
# Applied in order; each line says what it rewrites and why math-verify needs it.
_REWRITES = [
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        # an equation environment: its lines as one chain, "a &= b \\ &= c" is a = b = c
        (
            r"^\\begin\{(align|aligned|equation|gather|eqnarray)\*?\}(.*)\\end\{\1\*?\}$",
            lambda m: re.sub(r"\\\\", " ", m.group(2).replace("&", "")),
        ),
        # a number written as text: "\text{12 cm}" (its unit goes below)
        (r"^\\(?:text|textnormal|textrm|mbox)\s*\{\s*([-+]?\d[^{}]*)\}$", r"\1"),
        # math typed as code: "2*sqrt(2)", "2**(1/4)", "pi/2", "log(8)"
        (r"\*\*", "^"),
        (r"(?<![\\A-Za-z])sqrt\s*\(([^()]*)\)", r"\\sqrt{\1}"),
        (r"(?<![\\A-Za-z])(sin|cos|tan|log|ln|exp)\s*(?=\()", r"\\\1"),
        (r"(?<![\\A-Za-z])pi(?![A-Za-z])", r"\\pi "),
        # currency signs: "\$10" and "€5" are 10 and 5; "\%" is read like "%" below
        (r"\\\$|\$|\\(?:euro|pounds|yen|textdollar)(?![a-zA-Z])", ""),
        (r"\\%", "%"),
        # the empty set has two symbols
        (r"\\varnothing", r"\\emptyset"),
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
        # a mixed number with a slash "2 1/2", of a percent too: "4 4/9%"
        (rf"^([-+]?\d+)\s+(\d+)\s*/\s*(\d+)(\s*{_PERCENT_SIGN})?$", r"\1\\frac{\2}{\3}\4"),
        # a repeating decimal "0.1\overline{6}"
        (r"^([-+]?)(\d*)\.(\d*)\\overline\{(\d+)\}$", lambda m: _repeating_decimal(*m.groups())),
        # a unit glued to a number, also after a name: "12m^2", "v = 4 m/s"
        (rf"^((?:[^=]*=\s*)?[-+]?[\d.,{{}}]*\d)\s*{_UNIT}$", r"\1"),
        # "\quad" alone between two values separates them: "2 \quad 3"
        (r"(?<=[\d)\]])\s*\\q?quad\s*(?=[-+\d(\[])", ", "),
        # membership "x \in [-2, 7]" and set-builder "\{x \mid x > 2\}": the set or the
        # relation is the answer
        (r"^[A-Za-z](?:_\{?\w+\}?)?\s*\\in\s*(?=\S)", ""),
        (r"^\\\{\s*[a-z]\s*(?:\\mid|\||:)\s*(.*?)\s*\\\}$", r"\1"),
        # "et"/"und" between listed values, as math-verify reads "and"
        (r"(?<=\d)\s+(?:et|und)\s+(?=[-+\d])", ", "),
        # a one-column matrix is a vector: "\begin{pmatrix}1\\2\end{pmatrix}" is (1, 2)
        (
            r"^\\begin\{[pb]matrix\}([^&]*?)\\end\{[pb]matrix\}$",
            lambda m: "(" + ", ".join(row.strip() for row in m.group(1).split("\\\\")) + ")",
        ),
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
# A percent of a number, a fraction or a mixed number: "25%", "12.5 percent", "33\frac{1}{3}%"
_PERCENT = re.compile(
    rf"^([-+]?)(\d+(?:\.\d+)?|\.\d+)?(?:\\[dt]?frac\{{(\d+)\}}\{{(\d+)\}})?\s*{_PERCENT_SIGN}$"
)
_DEGREES = re.compile(rf"^({_NUMBER})\s*(?:\^\s*\{{?\s*\\circ\s*\}}?|°|\s*degrees?)$")
# Inequalities in one variable, with simple bounds, become intervals.
_BOUND = r"[-+]?(?:\d+(?:\.\d+)?|\\[dt]?frac\{[^{}]+\}\{[^{}]+\}|\\sqrt\{[^{}]+\}|\\infty|\\pi)"
_LESS = {"<": False, r"\lt": False, r"\le": True, r"\leq": True, r"\leqslant": True}
_GREATER = {">": False, r"\gt": False, r"\ge": True, r"\geq": True, r"\geqslant": True}
_OPERATOR = r"(<|>|\\l[et]q?(?:slant)?|\\g[et]q?(?:slant)?)"
_BETWEEN = re.compile(rf"^({_BOUND})\s*{_OPERATOR}\s*[a-z]\s*{_OPERATOR}\s*({_BOUND})$")
_ONE_SIDED = re.compile(rf"^[a-z]\s*{_OPERATOR}\s*({_BOUND})$")
_OR = re.compile(r"\s*(?:\\text\{\s*or\s*\}|\bor\b|\\lor|\\vee)\s*")


def answer_readings(answer: str) -> list[str]:
    """`answer` rewritten where math-verify would misread it, in every reading a human
    grader would accept: a decimal comma "1,22" is 1.22 or the list {1, 22}; "25%" is 25
    or 0.25; "30°" is 30 or π/6."""
    text = answer.strip().rstrip(" .,;\\").strip()
    unwrapped = _DELIMITERS.match(text)
    text = (unwrapped.group(1) if unwrapped else text).translate(_UNICODE)
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text).strip()
    text = _as_intervals(text) or text
    decimal = _DECIMAL_COMMA.match(text)
    # "10,455" is ten thousand and more; "0,111" cannot be
    if decimal and (len(decimal.group(2)) != 3 or decimal.group(1).lstrip("+-") == "0"):
        return [f"{decimal.group(1)}.{decimal.group(2)}", text]
    if (match := _PERCENT.match(text)) and (match.group(2) or match.group(3)):
        return _percent_readings(*match.groups())
    if match := _DEGREES.match(text):
        return [match.group(1), f"\\frac{{{match.group(1)}\\pi}}{{180}}"]
    return [text]


def _percent_readings(
    sign: str, number: str | None, numerator: str | None, denominator: str | None
) -> list[str]:
    """A percent's two readings: its number ("25%" is 25, the answer to "what percent?")
    and its value (0.25), both exact."""
    value = Fraction(number or 0)
    if numerator and int(denominator):
        value += Fraction(int(numerator), int(denominator))
    value = -value if sign == "-" else value
    return [_as_latex(value), _as_latex(value / 100)]


def _as_latex(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"


def _as_intervals(text: str) -> str | None:
    """`text` as a union of intervals when it is inequalities joined by "or", else None."""
    intervals = []
    for part in _OR.split(text):
        interval = _as_interval(part.strip())
        if interval is None:
            return None
        intervals.append(interval)
    return r" \cup ".join(intervals)


def _as_interval(relation: str) -> str | None:
    if match := _BETWEEN.match(relation):
        low, first, second, high = match.groups()
        if first in _LESS and second in _LESS:
            closed = _LESS[first], _LESS[second]
        elif first in _GREATER and second in _GREATER:  # "3 >= x > -1" is "-1 < x <= 3"
            low, high, closed = high, low, (_GREATER[second], _GREATER[first])
        else:
            return None
        return f"{'[' if closed[0] else '('}{low}, {high}{']' if closed[1] else ')'}"
    if match := _ONE_SIDED.match(relation):
        operator, bound = match.groups()
        if operator in _LESS:
            return f"(-\\infty, {bound}{']' if _LESS[operator] else ')'}"
        if operator in _GREATER:
            return f"{'[' if _GREATER[operator] else '('}{bound}, \\infty)"
    return None


def _repeating_decimal(sign: str, whole: str, fixed: str, repeated: str) -> str:
    """`\\frac{p}{q}` of sign whole.fixed(repeated)..., e.g. 0.1(6) = 1/6."""
    value = Fraction(int(whole or 0)) + Fraction(int(fixed or 0), 10 ** len(fixed))
    value += Fraction(int(repeated), (10 ** len(repeated) - 1) * 10 ** len(fixed))
    value = -value if sign == "-" else value
    return f"\\frac{{{value.numerator}}}{{{value.denominator}}}"
