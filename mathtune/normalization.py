r"""Turn an answer string into comparable parts: a tree of groups and leaves.

`clean_latex` removes what never changes the value: math delimiters, LaTeX spacing and
sizing, `\left`/`\right`, `\text{}` units, currency signs, thousands separators, stray
backslashes, trailing punctuation. `normalize_answer` then splits off the structure:
several values ("2, 3", "2 and 3", "1 \pm \sqrt{2}"), tuples, points and intervals
("(1, 2)", "[1, 2)"), sets ("\{1, 2\}"), assignments ("x = 3", "x \in [1, 2]") and simple
inequalities ("x > 2" becomes the interval (2, ∞)). Each leaf holds one value: its text,
its number when it is a plain number, and a percent or degree sign if it had one.

    >>> normalize_answer(r"\$1,000.")
    Leaf(text='1000', number=Number(value=Fraction(1000, 1), ulp=None), name=None, scale=None)
    >>> normalize_answer(r"v_{R}=4\mathrm{~m/s}").name
    'v_R'
    >>> [leaf.text for leaf in normalize_answer(r"[-1, 3)").items]
    ['-1', '3']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from mathtune.numerals import Number, parse_number, resolve_digit_commas

MAX_ANSWER_CHARS = 1000  # longer answers are kept whole, compared only as exact strings
MAX_DEPTH = 6  # nesting of groups, e.g. a set of points is depth 2

_TEXT_BLOCK = re.compile(
    r"\\(?:text(?:bf|it|rm|normal|sf|tt|up)?|math(?:rm|bf|it|sf|tt|bb|cal)|mbox|hbox|"
    r"operatorname)\s*\{([^{}]*)\}(\s*\^\s*\{?\s*[23]\s*\}?)?"
)
# Content of a \text{} block that is a unit when it follows a value: "4\mathrm{~m/s}".
_UNIT = re.compile(r"[A-Za-z°$€£%][A-Za-z°/.^0-9·$€£%\s-]*")
_UNIT_LETTERS = frozenset("mgslLKNJWVAhtC")  # one-letter units; other letters are variables
_UNIT_WORDS = re.compile(r"(?P<value>.*?[\d}).°%])\s+(?P<unit>[A-Za-z][A-Za-z/^0-9.\s-]{0,30})")
_HEDGES = re.compile(r"^(?:approximately|approx\.?|about|around|exactly|only)\s+", re.I)
_UNICODE = str.maketrans(
    {"−": "-", "–": "-", "—": "-", "×": r"\times ", "·": r"\cdot ", "÷": r"\div ",
     "π": r"\pi ", "∞": r"\infty ", "≤": r"\le ", "≥": r"\ge ", "≠": r"\ne ", "√": r"\sqrt",
     "∪": r"\cup ", "∈": r"\in ", "±": r"\pm ", "∓": r"\mp ", "\u00a0": " ", "\u2009": " ",
     "\u202f": " ", "€": "", "£": "", "¥": "", "₹": ""}
)  # fmt: skip
# Applied in order; each line says what it removes or rewrites. Whitespace is collapsed
# first so that no pattern with a leading \s* can scan a long blank run again and again.
_SUBSTITUTIONS = [
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"\s+", " "),
        (r"\\\\(?=[dtc]?frac|sqrt|pi|cdot|times|text|math|left|right|infty|circ|boxed)", r"\\"),
        (r"\\\$|\$|\\[()\[\]]|\\(?:euro|pounds|yen)(?![a-zA-Z])", ""),  # math delimiters, currency
        (r"\\(?:left|right)\s*\.|\\(?:left|right|[bB]igg?[lr]?)(?![a-zA-Z])", ""),  # sizing
        (r"\\(?:displaystyle|textstyle|scriptstyle|limits|nolimits)(?![a-zA-Z])|\\!", ""),
        (r"\\q?quad(?![a-zA-Z])", ", "),  # \quad separates values: "x=1 \quad y=2"
        (r"\\begin\{pmatrix\}", "("),  # a vector is a tuple
        (r"\\end\{pmatrix\}", ")"),
        (r"\\(?:begin|end)\{[a-zA-Z*]*\}", " "),  # cases, aligned: rows become values
        (r"\\\\", ", "),  # a line break between rows
        (r"&", " "),
        (r"\\[,:;> ]|~", " "),  # LaTeX spacing
        (r"\\[dtc]frac(?![a-zA-Z])", r"\\frac"),
        (r"\\[dt]binom(?![a-zA-Z])", r"\\binom"),
        (r"\\(?:leqslant|leq|le)(?![a-zA-Z])|<=", r"\\le "),
        (r"\\(?:geqslant|geq|ge)(?![a-zA-Z])|>=", r"\\ge "),
        (r"\\lt(?![a-zA-Z])", "<"),
        (r"\\gt(?![a-zA-Z])", ">"),
        (r"\\(?:approx|simeq|sim|cong)(?![a-zA-Z])", "="),  # "x \approx 3.14" reads as x = 3.14
        (r"\\langle(?![a-zA-Z])", "("),
        (r"\\rangle(?![a-zA-Z])", ")"),
        (r"\\lbrace(?![a-zA-Z])", r"\\{"),
        (r"\\rbrace(?![a-zA-Z])", r"\\}"),
        (r"\\%|\s*\bper\s?cent(?:age)?\b", "%"),
        (r"\^\s*\{?\s*\\circ\s*\}?|\\circ(?![a-zA-Z])|\\degree(?![a-zA-Z])|\s*\bdegrees?\b", "°"),
        (r"\s*,?\s*\b(?:and|or)\b\s*", ", "),  # "2 and 3", "2, or 3"
        (r"\\(?=\s|$)", ""),  # a stray backslash
        (r"\s+", " "),
    )
]
_NAME = re.compile(
    r"(?:[A-Za-z]|\\[a-zA-Z]+)(?:_\{?[A-Za-z0-9]{1,8}\}?)?'*|[A-Z]{2,3}|[A-Za-z]\([a-z]\)"
)
_RELATION = re.compile(r"(\\le|\\ge|<|>)")
_FLIPPED = {"<": ">", ">": "<", "\\le": "\\ge", "\\ge": "\\le"}
_OPENERS, _CLOSERS = "([{", ")]}"
_BRACKET = re.compile(r"[()\[\]{}]")


@dataclass(frozen=True)
class Leaf:
    """One value: `text` as cleaned LaTeX, `number` when it is a plain number."""

    text: str
    number: Number | None
    name: str | None = None  # the variable in "x = 3"
    scale: str | None = None  # "percent" or "degree" when the value carried that sign


@dataclass(frozen=True)
class Group:
    """Several values; `brackets` is "", "()", "[]", "[)", "(]" or "{}" (a set)."""

    items: tuple[Leaf | Group, ...]
    brackets: str


def clean_latex(text: str) -> str:
    """`text` without the LaTeX and typography that never changes an answer's value."""
    text = _unwrap_boxes(text.translate(_UNICODE))
    text = _TEXT_BLOCK.sub(_replace_text_block, text)
    for pattern, replacement in _SUBSTITUTIONS:
        text = pattern.sub(replacement, text)
    return _strip_edges(resolve_digit_commas(text))


def normalize_answer(text: str) -> Leaf | Group:
    """The structure and values of an answer; see the module docstring."""
    if len(text) > MAX_ANSWER_CHARS:
        return Leaf(text=text.strip(), number=None)
    return _parse_node(clean_latex(text), 0)


def _unwrap_boxes(text: str) -> str:
    """Replace each `\\boxed{X}` or `\\fbox{X}` by X (a model may box inside an answer)."""
    for _ in range(8):
        match = re.search(r"\\(?:boxed|fbox)\s*\{", text)
        if match is None:
            break
        close = _matching_close(text, match.end() - 1)
        if close is None:
            return text[: match.start()] + text[match.end() :]
        text = text[: match.start()] + text[match.end() : close] + text[close + 1 :]
    return text


def _replace_text_block(match: re.Match[str]) -> str:
    content = match.group(1).replace("~", " ").replace("\\,", " ").strip()
    if content.lower() in ("and", "or", ",", ";"):
        return ", "
    before = match.string[max(0, match.start() - 20) : match.start()].rstrip()
    after_value = bool(before) and (before[-1].isdigit() or before[-1] in ")}%")
    is_unit = _UNIT.fullmatch(content) is not None and (
        len(re.sub(r"[^A-Za-z]", "", content)) > 1 or content in _UNIT_LETTERS
    )
    if after_value and is_unit:
        return " "  # a unit after a value, with its exponent: "12\text{ cm}^2"
    return f" {content}{match.group(2) or ''} "


def _strip_edges(text: str) -> str:
    """Drop surrounding spaces, markdown bold and trailing punctuation ("5." → "5")."""
    return text.lstrip(" \t\n*:=").rstrip(" \t\n*.,;:?")


def _matching_close(text: str, open_index: int) -> int | None:
    depth = 0
    for match in _BRACKET.finditer(text, open_index):
        depth += 1 if match.group() in _OPENERS else -1
        if depth == 0:
            return match.start()
    return None


def _split_top_level(text: str) -> list[str]:
    """Split on commas, semicolons and `\\cup` outside any brackets."""
    parts, depth, start = [], 0, 0
    for match in re.finditer(r"[([{]|[)\]}]|[,;]|\\cup(?![a-zA-Z])", text):
        token = match.group()
        if token in _OPENERS:
            depth += 1
        elif token in _CLOSERS:
            depth = max(depth - 1, 0)
        elif depth == 0:
            parts.append(text[start : match.start()])
            start = match.end()
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def _outer_brackets(text: str) -> tuple[str, str] | None:
    """("()", inner) when brackets enclose all of `text`; "{}" for `\\{...\\}`, "g" for `{...}`."""
    start = 1 if text.startswith("\\{") else 0
    if len(text) < 2 or text[start] not in _OPENERS:
        return None
    if _matching_close(text, start) != len(text) - 1:
        return None
    if start == 1:
        return ("{}", text[2:-2]) if text.endswith("\\}") else None
    if text[0] == "{":
        return "g", text[1:-1]
    return text[0] + text[-1], text[1:-1]


def _parse_node(text: str, depth: int) -> Leaf | Group:
    text = _strip_edges(text)
    parts = _split_top_level(text)
    if depth >= MAX_DEPTH or not text:
        return _make_leaf(text)
    if len(parts) > 1:
        return Group(tuple(_parse_node(part, depth + 1) for part in parts), "")
    enclosed = _outer_brackets(text)
    if enclosed is None:
        return _parse_relation(text, depth)
    brackets, inner = enclosed
    parts = _split_top_level(inner)
    if brackets in ("()", "g") and len(parts) <= 1:
        return _parse_node(inner, depth + 1)  # a parenthesised value
    items = tuple(_parse_node(part, depth + 1) for part in parts)
    return Group(items, "{}" if brackets == "g" else brackets)


def _parse_relation(text: str, depth: int) -> Leaf | Group:
    """Assignments, membership, inequalities and ± inside one part."""
    interval = _inequality_interval(text)
    if interval is not None:
        return interval
    membership = re.fullmatch(rf"({_NAME.pattern})\s*\\in(?![a-zA-Z])\s*(.+)", text)
    if membership is not None:
        return _parse_node(membership.group(2), depth + 1)
    if "=" in text:
        # "x = 3" and "2 + 3 = 5" give their last value; "x^2 + y^2 = 1" stays an equation.
        sides = [side.strip() for side in text.split("=")]
        lhs, value = sides[0], sides[-1]
        is_name = _NAME.fullmatch(lhs) is not None
        is_arithmetic = not re.search(r"[A-Za-z]", lhs + value)
        if value and (is_name or is_arithmetic):
            node = _parse_node(value, depth + 1)
            if is_name and isinstance(node, Leaf):
                return replace(node, name=re.sub(r"[{}\s]", "", lhs))
            return node
    sign = re.search(r"\\(?:pm|mp)(?![a-zA-Z])", text)
    if sign is not None and len(re.findall(r"\\(?:pm|mp)(?![a-zA-Z])", text)) == 1:
        head, tail = text[: sign.start()].strip(), text[sign.end() :].strip()
        plus = f"{head}+{tail}" if head else tail
        return Group((_make_leaf(plus), _make_leaf(f"{head}-({tail})")), "")
    return _make_leaf(text)


def _inequality_interval(text: str) -> Group | None:
    """`x > 2` as (2, ∞), `-1 < x \\le 3` as (-1, 3]; None for anything else."""
    parts = [part.strip() for part in _RELATION.split(text)]
    values, operators = parts[0::2], parts[1::2]
    if len(values) == 3 and _NAME.fullmatch(values[1]):
        if all(op in ("<", "\\le") for op in operators):
            low, high, left, right = values[0], values[2], operators[0], operators[1]
        elif all(op in (">", "\\ge") for op in operators):
            low, high, left, right = values[2], values[0], operators[1], operators[0]
        else:
            return None
    elif len(values) == 2 and (_NAME.fullmatch(values[0]) or _NAME.fullmatch(values[1])):
        bound, operator = values[1], operators[0]
        if not _NAME.fullmatch(values[0]):  # "2 < x" is "x > 2"
            bound, operator = values[0], _FLIPPED[operator]
        if operator in ("<", "\\le"):
            low, high, left, right = "-\\infty", bound, "<", operator
        else:
            low, high, left, right = bound, "\\infty", _FLIPPED[operator], "<"
    else:
        return None
    if not low or not high:
        return None
    strict = ("<", ">")
    brackets = ("(" if left in strict else "[") + (")" if right in strict else "]")
    return Group((_make_leaf(low), _make_leaf(high)), brackets)


def _make_leaf(text: str) -> Leaf:
    text = _HEDGES.sub("", _strip_edges(text), count=1)
    scale = None
    for _ in range(2):  # "25 %" and "30° north": units and signs in either order
        unit = _UNIT_WORDS.fullmatch(text)
        if unit is not None and _is_unit_word(unit["unit"]):
            text = unit["value"]
        if text.endswith(("%", "°")):
            scale = "percent" if text.endswith("%") else "degree"
            text = text[:-1].rstrip()
    return Leaf(text=text, number=parse_number(text), scale=scale)


def _is_unit_word(word: str) -> bool:
    letters = re.sub(r"[^A-Za-z]", "", word)
    return len(letters) > 1 or letters in _UNIT_LETTERS
