"""Benchmark: our answer checker against math-verify on the labelled case table.

Runs every labelled case of tests/answer_cases.py through math-verify 0.9.0 (`parse` +
`verify`, called from the main thread as its signal-based timeouts require) and through
`mathtune.equivalence`, and prints the number of cases, each checker's agreement with the
labels, how often math-verify and ours agree, and every disagreement with its group (the
reason) and the expected label.

math-verify is run two ways. "wrapped": answers in `$...$`, its most favourable input, as
its README does. "bare": answers as OpenR1-Math-220k's `answer` column stores them. Whole
completions (COMPLETION_CASES) are passed as they are in both, as in training.

    .venv/bin/python benchmarks/compare_math_verify.py
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from math_verify import parse, verify

from mathtune.equivalence import answers_match, check_answer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from answer_cases import COMPLETION_CASES, EQUIVALENCE_CASES, flatten  # noqa: E402

MODES = ("wrapped", "bare")


def math_verify_grade(predicted: str, gold: str, whole_completion: bool, mode: str) -> bool:
    """math-verify's verdict: gold first, as its `verify` expects."""
    wrap = (lambda text: f"${text}$") if mode == "wrapped" else (lambda text: text)
    target = predicted if whole_completion else wrap(predicted)
    return bool(verify(parse(wrap(gold)), parse(target)))


def grade_all(rows: list[tuple]) -> tuple[dict[str, list[bool]], dict[str, float]]:
    """Verdicts of each checker on each row, and the seconds each spent in all."""
    verdicts: dict[str, list[bool]] = {name: [] for name in (*MODES, "ours")}
    seconds = dict.fromkeys(verdicts, 0.0)
    for _, predicted, gold, _, whole in rows:
        for mode in MODES:
            start = time.perf_counter()
            verdicts[mode].append(math_verify_grade(predicted, gold, whole, mode))
            seconds[mode] += time.perf_counter() - start
        start = time.perf_counter()
        check = check_answer(predicted, gold).correct if whole else answers_match(predicted, gold)
        verdicts["ours"].append(check)
        seconds["ours"] += time.perf_counter() - start
    return verdicts, seconds


def print_disagreements(rows: list[tuple], verdicts: dict, mode: str, skip: set[int]) -> None:
    for index, (group, predicted, gold, label, _) in enumerate(rows):
        theirs, ours = verdicts[mode][index], verdicts["ours"][index]
        if theirs == ours or index in skip:
            continue
        skip.add(index)
        winner = "ours" if ours == label else "math-verify"
        shown = predicted if len(predicted) <= 60 else predicted[:57] + "..."
        print(
            f"- [{group}] predicted {shown!r} gold {gold!r}: label {label}, "
            f"math-verify {theirs}, ours {ours} -> {winner} right"
        )


def main() -> None:
    logging.disable(logging.WARNING)  # math-verify logs every timeout and parse failure
    completions = flatten(COMPLETION_CASES)
    rows = [(*row, False) for row in flatten(EQUIVALENCE_CASES)] + [
        (*row, True) for row in completions
    ]
    labels = [row[3] for row in rows]
    verdicts, seconds = grade_all(rows)
    total = len(rows)
    print(f"cases: {total} ({total - len(completions)} answers, {len(completions)} completions)")
    for name, results in verdicts.items():
        right = sum(result == label for result, label in zip(results, labels, strict=True))
        checker = "ours" if name == "ours" else f"math-verify ({name})"
        print(
            f"{checker:24s} agrees with the labels on {right}/{total} ({right / total:.1%}), "
            f"{seconds[name] / total * 1000:.2f} ms per case"
        )
    shown: set[int] = set()
    for mode in MODES:
        agreed = sum(a == b for a, b in zip(verdicts[mode], verdicts["ours"], strict=True))
        print(f"\nmath-verify ({mode}) and ours agree on {agreed}/{total} ({agreed / total:.1%})")
        extra = "" if not shown else ", not counting those listed above"
        print(f"disagreements (group = reason; label = the right verdict){extra}:")
        print_disagreements(rows, verdicts, mode, shown)


if __name__ == "__main__":
    main()
