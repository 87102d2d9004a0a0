r"""Step 1 of grading: find the final answer in a completion, or in a gold answer.

Reasoning is never read as the answer: only the text after the last `</think>`, before an
unclosed `<think>` and before the first chat-template token (`<|im_start|>user` after the
answer) is searched. The strategies (STRATEGIES), first hit wins:

- "boxed": the last `\boxed{...}` or `\fbox{...}` (nested braces kept); boxes right before
  it, with only separators or labels between them, join it: `\boxed{2}, \boxed{3}` is "2, 3".
- "xml_tag": the last `<answer>...</answer>`.
- "answer_phrase": what follows "The answer is", "final answer:" or "Answer:"; when that is
  a sentence ("The largest $n$ is 34"), the value that ends it.
- "variable": assignments ending the last line: "so v_{R} = 4 m/s", "x = 2 and y = -1".
- "latex": the last `$...$`, `$$...$$`, `\(...\)` or `\[...\]` span, with the spans joined
  to it by "and", "or" or commas, unless a number follows it in the text.
- "last_line": the last line when it is bare math (`x^2 + 2x + 1`, kept whole), else the
  last number of its final sentence, in any language ("所以答案是 34。" gives "34").

Only the last MAX_TAIL_CHARS characters are searched by the strategies after "xml_tag", so
a 100 KB completion costs about as much as a short one.

    >>> extract_answer(r"<think>maybe \boxed{3}</think> So $x = \boxed{\frac{1}{2}}$.")
    Extracted(text='\\frac{1}{2}', strategy='boxed', boxed=True)
    >>> extract_answer("Final Answer: The largest $n$ is 34. I hope it is correct.")
    Extracted(text='34', strategy='answer_phrase', boxed=False)
    >>> extract_gold("$\\frac{1}{2}$"), extract_gold("We add: 2 + 2 = 4.\nSo the answer is 4.")
    ('\\frac{1}{2}', '4')
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

STRATEGIES = ("boxed", "xml_tag", "answer_phrase", "variable", "latex", "last_line")
MAX_TAIL_CHARS = 8000  # a final answer sits at the end; the tail bounds the regex work
MAX_SPAN_CHARS = 2000  # a box or math span not closed within this counts as unclosed
MAX_BOXES = 10  # boxes joined into one answer, and unclosed boxes skipped, at most
MAX_GAP_CHARS = 200  # boxes further apart than this are separate answers

_BOX = re.compile(r"\\(?:boxed|fbox)\s*\{")
_BRACE = re.compile(r"\\[{}]|[{}]")
# Tokens a chat template writes between turns; a model that runs on past its answer writes
# them, then a new user turn whose numbers must not be read as the answer.
_TEMPLATE_TOKEN = re.compile(
    r"<\|(?:im_start|im_end|endoftext|end_of_text|eot_id|start_header_id|end|user|assistant)\|>"
    r"|</s>|<eos>|<(?:start|end)_of_turn>"
)
_LABEL = r"(?:[A-Za-z]|\\[a-zA-Z]+)(?:_\{?[A-Za-z0-9]{1,8}\}?)?"
# What may stand between two boxes that together form one answer: "\boxed{2}, \boxed{3}",
# "x=\boxed{2} \text{ and } y=\boxed{3}".
_BOX_SEPARATOR = re.compile(
    rf"(?:\s|[$,;.]|\\[()\[\]]|\\q?quad|\\text\{{\s*(?:and|or)\s*\}}|\band\b|\bor\b|{_LABEL}\s*=)*"
)
_PHRASE = re.compile(
    r"\b(?:final\s+answer|answer)\b(?:\s+to\s+[^:\n]{0,60}?)?[*\s]*"
    r"(?:(?:is|would\s+be|will\s+be)\b|[:=])[\s*:]*|\bfinal\s+answer\b[*\s]*\n",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(r"\s+I hope it is correct.*$", re.IGNORECASE | re.DOTALL)
_MATH_DELIMITER = re.compile(r"(?<!\\)\$\$|(?<!\\)\$|\\\[|\\\]|\\\(|\\\)")
_CLOSING = {"$$": "$$", "$": "$", "\\[": "\\]", "\\(": "\\)"}
_SPAN_JOINER = re.compile(r"\s*(?:,|;|,?\s*and|,?\s*or)\s*", re.IGNORECASE)
_ASSIGNMENT = re.compile(rf"(?:^|(?<=[\s(:]))({_LABEL}'*)\s*=\s*(\S.*)$")
_CONNECTOR = re.compile(r"^(?:and|so|then|thus|hence|i\.e\.|or)\s+", re.IGNORECASE)
# One number as prose writes it: "-12", "3.5", "3,5", "10,455", "1 000", "3/4", "25%".
_NUMBER = re.compile(
    r"(?<![\w^_.,/\\])[-−]?(?:\d{1,3}(?:(?:,| |\u00a0|\u202f)\d{3})+(?!\d)|\d+)"
    r"(?:[.,]\d+)?(?:\s*/\s*\d+)?%?(?![\w^])"
)
_COMMAND = re.compile(r"\\[a-zA-Z]+")
# Three letters in a row, or a two-letter word that math never writes: "It is 7".
_WORD = re.compile(r"[^\W\d_]{3,}|\b(?:is|it|so|we|be|of|to|as|at|by|if)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[^\\][.!?])\s+|[。！？।؟]\s*")  # "\\!" is LaTeX spacing
# What looks like words but is not prose: `\text{}` (units, "and"), environment names
# (`\begin{pmatrix}`) and the "and"/"or" between listed values ("2 and 3").
_NOT_WORDS = re.compile(
    r"\\text\w*\{[^{}]*\}|\\(?:begin|end)\{\w+\*?\}(?:\{[^{}]*\})?|\b(?:and|or)\b"
)
_COLON = re.compile(r"(?<=[^\W\d_])\s*:\s+")  # after a word: "11:21" is a ratio
_FOREIGN_LETTER = re.compile(r"[^\W\d_\u0000-\u03ff]")
_COPULA = re.compile(r"\s(?:is|are|equals|was|be|est|ist|es|é)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Extracted:
    """The answer text as written, the strategy (one of STRATEGIES) that found it, and
    whether it was given in `\\boxed{}` (what the format reward pays for)."""

    text: str
    strategy: str
    boxed: bool


def extract_answer(text: str) -> Extracted | None:
    """The final answer of a completion, or None when it gives none; never raises."""
    if not isinstance(text, str):
        return None
    region = _answer_region(text)
    tail = region[-MAX_TAIL_CHARS:]
    for strategy, find in _FINDERS:
        found = find(region if strategy in ("boxed", "xml_tag") else tail)
        if found and found.strip():
            return Extracted(found.strip(), strategy, strategy == "boxed")
    return None


def extract_gold(gold: object) -> str | None:
    """The gold answer to compare with: a bare answer as it is, `$...$` unwrapped, and the
    final answer of a worked solution (one with a box, several lines or a sentence)."""
    if not isinstance(gold, str) or not gold.strip():
        return None
    gold = gold.strip()
    if _BOX.search(gold) or "\n" in gold or len(_WORD.findall(_COMMAND.sub(" ", gold))) >= 4:
        found = extract_answer(gold)
        return found.text if found else None
    spans = _math_spans(gold)
    if len(spans) == 1 and spans[0][0] == 0 and spans[0][1] == len(gold):
        start, end = spans[0][2]
        return gold[start:end].strip() or None
    return gold


def _answer_region(text: str) -> str:
    """The part of `text` that can hold the final answer: outside `<think>`, before the
    next chat turn."""
    close = text.rfind("</think>")
    if close >= 0:
        text = text[close + len("</think>") :]
    opening = text.find("<think>")
    text = text if opening < 0 else text[:opening]
    turns = _TEMPLATE_TOKEN.split(text)
    return next((turn for turn in turns if turn.strip()), "")


def _find_boxed(text: str) -> str | None:
    """The last complete box and the boxes joined to it, as "a, b"."""
    boxes: list[tuple[int, int, str]] = []  # (start, end, content), last box first
    skipped, search_end = 0, len(text)
    while len(boxes) < MAX_BOXES and skipped < MAX_BOXES:
        start = max(text.rfind("\\boxed", 0, search_end), text.rfind("\\fbox", 0, search_end))
        if start < 0:
            break
        search_end = start
        match = _BOX.match(text, start)
        close = closing_brace(text, match.end()) if match else None
        if close is None:
            skipped += 1
            continue
        if boxes and (
            boxes[-1][0] - close > MAX_GAP_CHARS
            or not _BOX_SEPARATOR.fullmatch(text, close + 1, boxes[-1][0])
        ):
            break
        content = text[match.end() : close].strip()
        if content and (not boxes or content != boxes[-1][2]):
            boxes.append((start, close + 1, content))
    return ", ".join(content for _, _, content in reversed(boxes)) or None


def closing_brace(text: str, start: int) -> int | None:
    """Index of the `}` closing the brace opened just before `start`; escaped braces skipped."""
    depth = 1
    for match in _BRACE.finditer(text, start, min(len(text), start + MAX_SPAN_CHARS)):
        if len(match.group()) == 2:
            continue
        depth += 1 if match.group() == "{" else -1
        if depth == 0:
            return match.start()
    return None


def _find_xml_tag(text: str) -> str | None:
    lowered = text.lower()
    close = lowered.rfind("</answer>")
    opening = lowered.rfind("<answer>", 0, max(close, 0))
    if close < 0 or opening < 0:
        return None
    return text[opening + len("<answer>") : close].strip() or None


def _find_answer_phrase(text: str) -> str | None:
    text = _SIGN_OFF.sub("", text)
    for match in reversed(list(_PHRASE.finditer(text))):
        rest = text[match.end() :].lstrip()
        opener = next((o for o in ("$$", "\\[", "\\(", "$") if rest.startswith(o)), None)
        if opener is not None:
            end = rest.find(_CLOSING[opener], len(opener), MAX_SPAN_CHARS)
            answer = rest[len(opener) : end] if end > 0 else ""
        else:
            answer = re.split(r"\n|(?<=[^\d\s])\.\s|\.\s+(?=[A-Z])", rest, maxsplit=1)[0]
        answer = final_value(answer.strip(" *.\n"))
        if answer:
            return answer
    return None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in _SIGN_OFF.sub("", text).strip().splitlines()[-20:]]
    lines = [line for line in lines if line.strip("*# ")]
    return lines[-1] if lines else ""


def _find_variable(text: str) -> str | None:
    """Assignments that end the last line; earlier ones join only if nothing else is between."""
    line = re.sub(r"\$|\\[()\[\]]|\*\*", " ", _last_line(text)).strip().rstrip(".")
    parts = re.split(r",\s+|;\s*|,(?=\s*[A-Za-z\\])|\s+(?:and|or)\s+", line)
    found: list[str] = []
    for part in reversed(parts):
        part = _CONNECTOR.sub("", part.strip())
        match = _ASSIGNMENT.search(part)
        if match is None or re.search(r"[A-Za-z]{3}", match.group(2).rpartition("=")[0]):
            break  # no assignment, or prose inside a chain: "x = 3 is the root of 2x = 6"
        value = match.group(2).rsplit("=", 1)[-1].strip()  # "b = a + 1 = 3" gives b = 3
        found.append(f"{match.group(1)} = {value}")
        if match.start() > 0:
            break  # words before the assignment: "so the area is A = 10"
    return ", ".join(reversed(found)) or None


def _find_latex(text: str) -> str | None:
    spans = _math_spans(text)
    if not spans or _NUMBER.search(text, spans[-1][1]):
        return None  # "The largest $n$ is 34": the number after the span is the answer
    chosen = [spans[-1]]
    for span in reversed(spans[:-1]):
        if not _SPAN_JOINER.fullmatch(text, span[1], chosen[-1][0]):
            break
        chosen.append(span)
    contents = [text[start:end].strip() for _, _, (start, end) in reversed(chosen)]
    return ", ".join(content for content in contents if content) or None


def _math_spans(text: str) -> list[tuple[int, int, tuple[int, int]]]:
    """(start, end, (inner start, inner end)) of each complete math span, left to right."""
    spans, opener, opened_at, inner_start = [], None, 0, 0
    for match in _MATH_DELIMITER.finditer(text):
        token = match.group()
        if opener is None and token in _CLOSING:
            opener, opened_at, inner_start = token, match.start(), match.end()
        elif opener is not None and token == _CLOSING[opener]:
            spans.append((opened_at, match.end(), (inner_start, match.start())))
            opener = None
    return spans


def _find_last_line(text: str) -> str | None:
    line = _last_line(text).strip("*#: ").rstrip(".")
    sentences = [s for s in _SENTENCE_END.split(line) if s.strip(" *.")]
    return final_value(sentences[-1].strip(" *")) if sentences else None


def final_value(text: str) -> str:
    """`text` itself when it is bare math or holds no number; else the value that ends the
    sentence: what follows its last "is" or colon, or its last number. One value, never a
    list built from the numbers of an expression."""
    if not _is_prose(text):
        return text
    for separator in (_COPULA, _COLON):  # "the sum is 1, 2 et 3", "solutions : 1, 2 et 3"
        after = separator.split(text)[-1].strip(" *")
        if after != text and after and not _is_prose(after):
            return after
    numbers = _NUMBER.findall(text)
    return _ascii_digits(numbers[-1]) if numbers else text


def _is_prose(text: str) -> bool:
    """Whether `text` holds words: three letters in a row outside LaTeX commands and
    `\\text{}`, or any letter beyond the Latin and Greek alphabets (Chinese writes no
    spaces between words; Devanagari's vowel marks split a word for `\\w`)."""
    bare = _COMMAND.sub(" ", _NOT_WORDS.sub(" ", text))
    return bool(_WORD.search(bare) or _FOREIGN_LETTER.search(bare))


def _ascii_digits(number: str) -> str:
    """Arabic-Indic, Devanagari and other digits as 0-9, so that "٣٤" reads as 34."""
    return "".join(str(unicodedata.digit(char)) if char.isdigit() else char for char in number)


_FINDERS: tuple[tuple[str, Callable[[str], str | None]], ...] = (
    ("boxed", _find_boxed),
    ("xml_tag", _find_xml_tag),
    ("answer_phrase", _find_answer_phrase),
    ("variable", _find_variable),
    ("latex", _find_latex),
    ("last_line", _find_last_line),
)
