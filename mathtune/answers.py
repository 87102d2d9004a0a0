r"""Find the final answer in a model completion, trying several strategies in order.

Reasoning is never read as the answer: only the text after the last `</think>`, and before
an unclosed `<think>`, is searched. The strategies (STRATEGIES), first hit wins:

- "boxed": the last `\boxed{...}` or `\fbox{...}` (nested braces kept); boxes right before
  it, with only separators or labels between them, join it: `\boxed{2}, \boxed{3}` is "2, 3".
- "xml_tag": the last `<answer>...</answer>`.
- "answer_phrase": what follows "The answer is", "final answer:" or "Answer:".
- "variable": assignments ending the last line: "so v_{R} = 4 m/s", "x = 2 and y = -1".
- "latex": the last `$...$`, `$$...$$`, `\(...\)` or `\[...\]` span, with the spans joined
  to it by "and", "or" or commas.
- "last_line": the numbers on the last line ("2, 3" from "the roots are 2 and 3"), or its
  last sentence when it has none.

Only the last MAX_TAIL_CHARS characters are searched by the strategies after "xml_tag", so
a 100 KB completion costs about as much as a short one.

    >>> extract_answer(r"<think>maybe \boxed{3}</think> So $x = \boxed{\frac{1}{2}}$.")
    ExtractedAnswer(text='\\frac{1}{2}', strategy='boxed')
    >>> extract_answer("Adding them up, the answer is 42 apples.")
    ExtractedAnswer(text='42 apples', strategy='answer_phrase')
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

STRATEGIES = ("boxed", "xml_tag", "answer_phrase", "variable", "latex", "last_line")
MAX_TAIL_CHARS = 8000  # a final answer sits at the end; the tail bounds the regex work
MAX_SPAN_CHARS = 2000  # a box or math span not closed within this counts as unclosed
MAX_BOXES = 10  # boxes joined into one answer, and unclosed boxes skipped, at most
MAX_GAP_CHARS = 200  # boxes further apart than this are separate answers

_BOX = re.compile(r"\\(?:boxed|fbox)\s*\{")
_BRACE = re.compile(r"\\[{}]|[{}]")
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
_MATH_DELIMITER = re.compile(r"(?<!\\)\$\$|(?<!\\)\$|\\\[|\\\]|\\\(|\\\)")
_CLOSING = {"$$": "$$", "$": "$", "\\[": "\\]", "\\(": "\\)"}
_SPAN_JOINER = re.compile(r"\s*(?:,|;|,?\s*and|,?\s*or)\s*", re.IGNORECASE)
_ASSIGNMENT = re.compile(rf"(?:^|(?<=[\s(:]))({_LABEL}'*)\s*=\s*(\S.*)$")
_CONNECTOR = re.compile(r"^(?:and|so|then|thus|hence|i\.e\.|or)\s+", re.IGNORECASE)
_NUMBER_IN_TEXT = re.compile(r"(?<![\w^_.,/\\])-?\d+(?:[.,]\d+)*(?:\s*/\s*\d+)?%?(?![\w^])")


@dataclass(frozen=True)
class ExtractedAnswer:
    """The answer text as written and the strategy (one of STRATEGIES) that found it."""

    text: str
    strategy: str


def extract_answer(text: str) -> ExtractedAnswer | None:
    """The final answer of a completion, or None when it gives none; never raises."""
    if not isinstance(text, str):
        return None
    region = _strip_reasoning(text)
    tail = region[-MAX_TAIL_CHARS:]
    for strategy, find in _FINDERS:
        found = find(region if strategy in ("boxed", "xml_tag") else tail)
        if found:
            return ExtractedAnswer(found.strip(), strategy)
    return None


def _strip_reasoning(text: str) -> str:
    """The part of `text` outside `<think>` blocks that can hold the final answer."""
    close = text.rfind("</think>")
    if close >= 0:
        text = text[close + len("</think>") :]
    opening = text.find("<think>")
    return text if opening < 0 else text[:opening]


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
        close = _closing_brace(text, match.end()) if match else None
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


def _closing_brace(text: str, start: int) -> int | None:
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
    for match in reversed(list(_PHRASE.finditer(text))):
        rest = text[match.end() :].lstrip()
        opener = next((o for o in ("$$", "\\[", "\\(", "$") if rest.startswith(o)), None)
        if opener is not None:
            end = rest.find(_CLOSING[opener], len(opener), MAX_SPAN_CHARS)
            answer = rest[len(opener) : end] if end > 0 else ""
        else:
            answer = re.split(r"\n|(?<=[^\d\s])\.\s|\.\s+(?=[A-Z])|\s+I hope", rest, maxsplit=1)[0]
        answer = answer.strip().strip("*").rstrip(".").strip()
        if answer:
            return answer
    return None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines()[-20:] if line.strip()]
    return lines[-1] if lines else ""


def _find_variable(text: str) -> str | None:
    """Assignments that end the last line; earlier ones join only if nothing else is between."""
    line = re.sub(r"\$|\\[()\[\]]|\*\*", " ", _last_line(text)).strip().rstrip(".")
    parts = re.split(r",\s+|;\s*|,(?=\s*[A-Za-z\\])|\s+and\s+", line)
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
    if not spans:
        return None
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
    line = _last_line(text).strip("*# ")
    numbers = _NUMBER_IN_TEXT.findall(line)
    if numbers:
        return ", ".join(number.replace(" ", "") for number in numbers)
    sentences = re.split(r"(?<=[.!?])\s+", line.rstrip("."))
    return sentences[-1][-300:].strip() or None


_FINDERS: tuple[tuple[str, Callable[[str], str | None]], ...] = (
    ("boxed", _find_boxed),
    ("xml_tag", _find_xml_tag),
    ("answer_phrase", _find_answer_phrase),
    ("variable", _find_variable),
    ("latex", _find_latex),
    ("last_line", _find_last_line),
)
