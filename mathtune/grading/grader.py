r"""The one answer checker: extract, then compare, one `Grade` per completion.

Rewards, prompt formatting and evaluation all read this result, so no answer is graded
twice and "is it boxed?" has one rule (`mathtune.grading.extract`). Against a choice-letter
gold, the letter the completion commits to decides (`mathtune.grading.choices`). Plain
numbers and fractions are compared in-process; everything else goes to the worker pool in one batch
(`mathtune.grading.pool`), where a comparison past its CPU budget counts as incorrect and is
flagged `timed_out`, and one the pool could not run is graded in-process and flagged
`machinery_failure`.

    >>> grade = grade_completion(r"<think>x=3?</think> So $x = \boxed{4}$.", "4")
    >>> grade.extracted, grade.boxed, grade.correct, grade.timed_out, grade.machinery_failure
    ('4', True, True, False, False)
    >>> [g.correct for g in grade_completions(["It is 0.5.", r"\boxed{2, 1}"], ["1/2", "1, 2"])]
    [True, True]
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from mathtune.grading.choices import committed_letter, gold_choice
from mathtune.grading.compare import compare_plain
from mathtune.grading.extract import Extracted, extract_answer, extract_gold
from mathtune.grading.pool import Verdict, compare_pairs

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Grade:
    """What was read from a completion, how, and whether it equals the gold answer.

    `timed_out`: the comparison ran past its CPU budget (pathological input); scored
    incorrect. `machinery_failure`: the worker pool could not run the comparison; it was
    graded in-process under the same budget (the verdict stands), or lost (scored incorrect)
    when its worker died twice. Counted apart: a time-out is the completion's doing, a
    machinery failure the grader's.
    """

    extracted: str | None
    strategy: str | None
    boxed: bool
    correct: bool
    timed_out: bool
    machinery_failure: bool = False


def grade_completion(completion: str, gold: str | None) -> Grade:
    """Grade one completion against its gold answer; never raises on model output."""
    return grade_completions([completion], [gold])[0]


def grade_completions(completions: Sequence[str], golds: Sequence[str | None]) -> list[Grade]:
    """Grade each completion against the gold answer at the same index.

    A gold may be bare, `$...$`-wrapped or a worked solution (its final answer is used).
    """
    if len(completions) != len(golds):
        raise ValueError(
            f"got {len(completions)} completions but {len(golds)} gold answers; "
            "pass one gold answer per completion"
        )
    found = [extract_answer(completion) for completion in completions]
    verdicts: list[Verdict | None] = [None] * len(completions)
    pending: list[int] = []
    pairs: list[tuple[str, str]] = []
    for index, (extracted, gold) in enumerate(zip(found, golds, strict=True)):
        gold_text = extract_gold(gold)
        if gold_text is not None and (choice := gold_choice(gold_text)):
            letter = committed_letter(completions[index])
            if letter or not choice.text:
                verdicts[index] = Verdict(equal=letter == choice.letter)
                continue
            gold_text = choice.text  # no letter named: the option's text may be the answer
        if extracted is None or gold_text is None:
            continue
        equal = compare_plain(extracted.text, gold_text)
        if equal is None:
            pending.append(index)
            pairs.append((extracted.text, gold_text))
        else:
            verdicts[index] = Verdict(equal=equal)
    for index, verdict in zip(pending, compare_pairs(pairs), strict=True):
        verdicts[index] = verdict
    timeouts = sum(bool(verdict and verdict.timed_out) for verdict in verdicts)
    if timeouts:
        logger.warning("%d of %d comparisons timed out; scored incorrect", timeouts, len(golds))
    return [_grade(extracted, verdict) for extracted, verdict in zip(found, verdicts, strict=True)]


def _grade(extracted: Extracted | None, verdict: Verdict | None) -> Grade:
    """The Grade of a completion: nothing to compare (no answer or no gold) is incorrect."""
    verdict = verdict or Verdict(equal=False)
    return Grade(
        extracted=extracted.text if extracted else None,
        strategy=extracted.strategy if extracted else None,
        boxed=bool(extracted and extracted.boxed),
        correct=verdict.equal,
        timed_out=verdict.timed_out,
        machinery_failure=verdict.machinery_failure,
    )
