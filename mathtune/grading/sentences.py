r"""The value a sentence states: a final answer written in prose, in any language.

`final_value(text)` is `text` itself when it is bare math or holds no value. Otherwise:

1. the main clause: what follows the last conclusion word ("so", "thus", "therefore", "donc",
   "所以", ...);
2. in it, the first copula or colon ("is", "equals", "est", "ist", "是", ":", ...) that a
   value follows: what comes after it when that is bare math ("the sum is 1, 2 et 3"), else
   its first value, cut before any justification or approximation ("5/36 since there are 36
   outcomes", "-9/4, attained at x = 3/2", "12π square units, about 37.7");
3. with no such copula, the first value after an answer phrase (`stated`: "Réponse: Janeth
   aura encore 220 $ à payer d'ici 12 mois" gives 220), else the last value of the clause
   ("She keeps 92 stickers").

A value is a `$...$` or `\(...\)` span, a LaTeX fraction or root, or a number as prose writes
it: "-12", "3,5", "10,455", "1 000", "4 4/9", "25%", "40 percent", "1,000.99m²". A chain
"3 + 4 = 7" stands for its last value. Digits of other scripts ("٤٨") are read as 0-9.

    >>> final_value("Thus the probability is 5/36 since there are 36 outcomes")
    '5/36'
    >>> final_value("因此，盒子里一共有 48 个球"), final_value("The answer is x^2 + 1")
    ('48', 'x^2 + 1')
"""

from __future__ import annotations

import re
import unicodedata

# Letters that make a number part of a word ("x2", "3x"); other scripts do not ("48个").
_LATIN = r"A-Za-z\u00c0-\u024f\u0370-\u03ff"
_GLUED_UNIT = r"(?:[kcm]?m|kg|mg|g|ml|mL|l|L|s|h|min)(?:²|³|\^\{?[23]\}?)?"
NUMBER = (
    rf"(?<![{_LATIN}\d^_.,/\\])[-−]?(?:\d{{1,3}}(?:(?:,| |\u00a0|\u202f)\d{{3}})+(?!\d)|\d+)"
    r"(?:[.,]\d+)?(?: \d+/\d+(?!\d)|\s*/\s*\d+)?"
    rf"(?:\s*(?:%|percentage|percent|per cent|pct)|{_GLUED_UNIT})?(?![{_LATIN}\d^])"
)
_LATEX_VALUE = r"-?\d*\\(?:[dt]?frac\s*\{[^{}]*\}\s*\{[^{}]*\}|sqrt\s*\{[^{}]*\})"
_SPAN = r"\$([^$]+)\$|\\\((.+?)\\\)"
_VALUE = re.compile(rf"{_SPAN}|({_LATEX_VALUE}|{NUMBER})")
_CHAIN_STEP = re.compile(
    rf"\s*([-+*/×÷·]|\\times|\\cdot|=)\s*(?:{_SPAN}|({_LATEX_VALUE}|{NUMBER}))"
)
_CONCLUSION = re.compile(
    r"(?:^|[\s,;])(?:so|thus|therefore|hence|consequently|donc|ainsi|entonces|daher|"
    r"quindi|portanto|поэтому|итак|значит)\b[\s,]*|所以|因此|因而|故而",
    re.IGNORECASE,
)
_COPULA = re.compile(
    r"\s(?:is|are|equals|equal to|was|will be|would be|be|(?:est|sont)(?: de)?|ist|lautet|es|é|è|"
    r"son)\s+"
    r"|(?<=[^\W\d_])\s*[:：]\s*|是|为|為|等于|равно",
    re.IGNORECASE,
)
_ASIDE = re.compile(
    r"\s(?:since|because|as|when|whenever|where|which|if|given|attained|reached|achieved|"
    r"occurring|about|approximately|roughly|around|i\.e\.|car|puisque|quand|lorsque|soit|"
    r"weil|porque)\b|\s*(?:≈|\\approx|因为|当)",
    re.IGNORECASE,
)
# What may follow a value without being math: units, currency signs, punctuation, words.
_TRAILER = re.compile(r"[^\d\\+\-*/^=<>()\[\]{}|,;]*")
_COMMAND = re.compile(r"\\[a-zA-Z]+")
# Three letters in a row, or a two-letter word that math never writes: "It is 7".
_WORD = re.compile(r"[^\W\d_]{3,}|\b(?:is|it|so|we|be|of|to|as|at|by|if)\b", re.IGNORECASE)
# What looks like words but is not prose: `\text{}` (units, "and"), environment names
# (`\begin{pmatrix}`), the "and"/"or" between listed values ("2 and 3") and functions typed
# as code ("sqrt(2)").
_NOT_WORDS = re.compile(
    r"\\text\w*\{[^{}]*\}|\\(?:begin|end)\{\w+\*?\}(?:\{[^{}]*\})?|\b(?:and|or)\b"
    r"|\b(?:sqrt|sin|cos|tan|log|ln|exp)(?=\s*\()"
)
_FOREIGN_LETTER = re.compile(r"[^\W\d_\u0000-\u03ff]")


def final_value(text: str, stated: bool = False) -> str:
    """The value `text` states (see the module docstring); `stated`: `text` follows an answer
    phrase, so with no copula its first value is the answer."""
    text = text.strip(" *_")
    if not is_prose(text):
        return text
    text = text.replace("**", "")  # bold in prose is markdown, not a power
    clause = _CONCLUSION.split(text)[-1]
    for copula in _COPULA.finditer(clause):
        after = clause[copula.end() :].strip(" *_")
        value = _VALUE.match(after.lstrip("(["))
        if value and _TRAILER.fullmatch(after.lstrip("(["), value.end()):
            return _value_text(value)  # "2,74 $ a": a value, then no more math
        if after and not is_prose(after):
            return after
        if value:
            return _first_value(_ASIDE.split(after)[0]) or text
    if stated:
        return _first_value(_ASIDE.split(clause)[0]) or text
    values = list(_VALUE.finditer(clause))
    return _value_text(values[-1]) if values else text


def _first_value(text: str) -> str | None:
    """The first value of `text`; of a chain "3 + 4 = 7", its last one."""
    match = _VALUE.search(text)
    if match is None:
        return None
    value, end = _value_text(match), match.end()
    while step := _CHAIN_STEP.match(text, end):
        end = step.end()
        if step.group(1) == "=":
            value = _value_text(step, first_group=2)
    return value


def _value_text(match: re.Match, first_group: int = 1) -> str:
    """The value a _VALUE (or _CHAIN_STEP) match holds: a span's content or the value."""
    groups = match.groups()[first_group - 1 :]
    return _ascii_digits(next(group for group in groups if group is not None).strip())


def is_prose(text: str) -> bool:
    """Whether `text` holds words: three letters in a row outside LaTeX commands and
    `\\text{}`, or any letter beyond the Latin and Greek alphabets (Chinese writes no
    spaces between words; Devanagari's vowel marks split a word for `\\w`)."""
    bare = _COMMAND.sub(" ", _NOT_WORDS.sub(" ", text))
    return bool(_WORD.search(bare) or _FOREIGN_LETTER.search(bare))


def _ascii_digits(number: str) -> str:
    """Arabic-Indic, Devanagari and other digits as 0-9, so that "٣٤" reads as 34."""
    return "".join(str(unicodedata.decimal(char)) if char.isdecimal() else char for char in number)
