"""Benchmark: our answer checker against math-verify on the labelled case table.

Runs every labelled case of tests/answer_cases.py through math-verify 0.9.0 (`parse` +
`verify`, called from the main thread as its signal-based timeouts require) and through
`mathtune.equivalence`, and prints the number of cases, each checker's accuracy against
the labels, how often the two agree, and every disagreement with its group (the reason)
and the expected label.

Extracted answers (EQUIVALENCE_CASES) are given to math-verify wrapped in `$...$`, its most
favourable input; whole completions (COMPLETION_CASES) are given as they are, as in
training. Gold answers are always wrapped in `$...$`, as math-verify's README does.

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


def math_verify_grade(predicted: str, gold: str, whole_completion: bool) -> bool:
    """math-verify's verdict, as open-r1's accuracy reward computes it."""
    target = predicted if whole_completion else f"${predicted}$"
    return bool(verify(parse(f"${gold}$"), parse(target)))


def main() -> None:
    logging.disable(logging.WARNING)  # math-verify logs every timeout and parse failure
    rows = [(*row, False) for row in flatten(EQUIVALENCE_CASES)]
    rows += [(*row, True) for row in flatten(COMPLETION_CASES)]
    disagreements, right = [], {"math-verify": 0, "ours": 0}
    timings = {"math-verify": 0.0, "ours": 0.0}
    for group, predicted, gold, label, whole in rows:
        start = time.perf_counter()
        theirs = math_verify_grade(predicted, gold, whole)
        middle = time.perf_counter()
        ours = check_answer(predicted, gold).correct if whole else answers_match(predicted, gold)
        timings["math-verify"] += middle - start
        timings["ours"] += time.perf_counter() - middle
        right["math-verify"] += theirs == label
        right["ours"] += ours == label
        if theirs != ours:
            disagreements.append((group, predicted, gold, label, theirs, ours))

    total = len(rows)
    print(
        f"cases: {total} ({len(rows) - len(flatten(COMPLETION_CASES))} extracted answers, "
        f"{len(flatten(COMPLETION_CASES))} whole completions)"
    )
    for name in ("math-verify", "ours"):
        print(
            f"{name:12s} agrees with the labels on {right[name]}/{total} "
            f"({right[name] / total:.1%}), {timings[name] / total * 1000:.2f} ms per case"
        )
    agreed = total - len(disagreements)
    print(f"math-verify and ours agree on {agreed}/{total} ({agreed / total:.1%})\n")
    print(f"{len(disagreements)} disagreements (group = reason; label = the right verdict):")
    for group, predicted, gold, label, theirs, ours in disagreements:
        winner = "ours" if ours == label else "math-verify"
        shown = predicted if len(predicted) <= 60 else predicted[:57] + "..."
        print(
            f"- [{group}] predicted {shown!r} gold {gold!r}: label {label}, "
            f"math-verify {theirs}, ours {ours} -> {winner} right"
        )


if __name__ == "__main__":
    main()
