r"""Multiple-choice answers: the letter a gold names, and the letter a completion commits to.

A gold is a choice when it is a letter A-E, alone or with its option's text: "B", "(B)",
`\text{(C)}`, "B) 12", "(D) Alina", "C Cecile", "C. x = 42". A completion commits to the
letter of the first rule that finds one in its answer region (`committed_letter`):

1. its boxed or `<answer>` answer is a letter: `\boxed{B}`, `\boxed{\text{(B)}}`, "(B) 12";
2. an answer phrase names one: "the answer is (B)", "Answer: D", "réponse est C", "答案是 B";
3. its last line starts with one: "D. it can't be A or B", "B。不是 A", "(C) 12", "b";
4. its last line ends with one: "... therefore I think it's B", "Option B".

Only the letter counts, never a letter inside an expression ("e^2" is no E). Against a gold
that carries its option's text, a completion naming no letter is compared by that text.

    >>> gold_choice("(D) Alina"), committed_letter("The answer is for sure D, not A or B.")
    (Choice(letter='D', text='Alina'), 'D')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mathtune.grading.extract import answer_region, extract_answer

_TEXT = re.compile(r"\\(?:text\w*|mathrm|mathbf|mbox)\s*\{([^{}]*)\}")
_GOLD = re.compile(r"\(?([A-E])(?:(\)|\.|:)|(?=\s+[A-Z(])|$)\s*(.*)", re.DOTALL)
_LETTER_ANSWER = re.compile(
    r"(?:option|choice|answer)?\s*\(?([A-Ea-e])\)?(?:[.:)]?\s.*|[.:])?", re.IGNORECASE | re.DOTALL
)
_PHRASE = re.compile(
    r"(?:answer|réponse|respuesta|antwort|resposta|risposta|ответ|答案|答)"
    r"(?:\s+(?:is|est|es|ist|é|è)|\s*[:：]|是|为)?"
    r"\s*(?:(?:for\s+sure|probably|definitely|clearly|option|choice|letter)\s*)*"
    r"\**\(?([A-E])\)?(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_LINE_START = re.compile(r"\**\(?([A-E])\)?(?:[.:)。，,、：]|(?=[^\x00-\x7f])|$)")
_LINE_END = re.compile(r"(?<![A-Za-z\\])\(?([A-E])\)?[*.!。]*$")


@dataclass(frozen=True)
class Choice:
    """The letter a gold names, and its option's text when the gold gives it ("" if not)."""

    letter: str
    text: str


def gold_choice(gold: str) -> Choice | None:
    """The Choice a gold answer names, or None when it is not a choice letter."""
    match = _GOLD.fullmatch(bare_text(gold))
    if match is None or (match.group(3) and not match.group(2) and not match.group(3)[0].isupper()):
        return None
    return Choice(match.group(1), match.group(3).strip())


def committed_letter(completion: str) -> str | None:
    """The choice letter a completion commits to (see the module docstring), or None."""
    found = extract_answer(completion)
    if found and found.strategy in ("boxed", "xml_tag"):
        letter = _LETTER_ANSWER.fullmatch(bare_text(found.text))
        return letter[1].upper() if letter else None
    region = answer_region(completion)
    phrases = list(_PHRASE.finditer(region))
    if phrases:
        return phrases[-1][1].upper()
    lines = [bare_text(line) for line in region.splitlines() if bare_text(line)]
    if not lines:
        return None
    if lines[-1] in "abcde":  # a lower-case letter only when it stands alone
        return lines[-1].upper()
    letter = _LINE_START.match(lines[-1]) or _LINE_END.search(lines[-1])
    return letter[1] if letter else None


def bare_text(answer: str) -> str:
    """`answer` without `\\text{}` wrappers, math delimiters and LaTeX spacing:
    `\\textbf{(B)}\\ 12` is "(B) 12"."""
    text = _TEXT.sub(r"\1", answer)
    return re.sub(r"\\[ ,;:!]|\$|\\[()\[\]]", " ", text).strip()
