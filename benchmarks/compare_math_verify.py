r"""Benchmark: the project's grader against plain math-verify on the labelled case table.

Every case of tests/grading/grading_cases.py (CLASS_CASES: one group per failure class
and near-misses; EQUIVALENCE_CASES and COMPLETION_CASES: regression groups) is graded
three ways:

- "project": `mathtune.grading.grader.grade_completions`, as rewards and evaluation call it;
- "mv plain": math-verify 0.9.0 `verify(parse(gold), parse(prediction))`;
- "mv boxed": the same with the gold wrapped in `\boxed{}` and a prediction without a box
  boxed whole (its most favourable input for bare answers).

It prints, per group, the cases and each checker's agreement with the labels, then the
totals with balanced accuracy (mean of the rates on equal and on unequal pairs), then every
case the project gets wrong. math-verify runs in this main thread, where its SIGALRM
timeouts work. The figures go to `benchmarks/results/compare_math_verify.json`.

    python benchmarks/compare_math_verify.py
"""

from __future__ import annotations

import datetime
import json
import logging
import sys
from importlib.metadata import version
from pathlib import Path

from math_verify import parse, verify

from mathtune.grading.grader import grade_completions

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "grading"))
from grading_cases import CLASS_CASES, COMPLETION_CASES, EQUIVALENCE_CASES  # noqa: E402

CHECKERS = ("project", "mv plain", "mv boxed")


def math_verify_grade(prediction: str, gold: str, boxed: bool) -> bool:
    """math-verify's verdict, gold first as its `verify` expects."""
    if boxed:
        gold = f"\\boxed{{{gold}}}"
        prediction = prediction if "\\boxed" in prediction else f"\\boxed{{{prediction}}}"
    return bool(verify(parse(gold), parse(prediction)))


def grade_table(rows: list[tuple[str, str, str, bool]]) -> dict[str, list[bool]]:
    """Each checker's verdict on each (group, prediction, gold, label) row."""
    grades = grade_completions([row[1] for row in rows], [row[2] for row in rows])
    timeouts = sum(grade.timed_out for grade in grades)
    print(f"project: {timeouts} comparisons of {len(rows)} ran past the pool's deadline")
    return {
        "project": [grade.correct for grade in grades],
        "mv plain": [math_verify_grade(row[1], row[2], boxed=False) for row in rows],
        "mv boxed": [math_verify_grade(row[1], row[2], boxed=True) for row in rows],
    }


def agreement(verdicts: list[bool], labels: list[bool]) -> tuple[float, float]:
    """(share agreeing with the labels, balanced accuracy)."""
    right = [v == label for v, label in zip(verdicts, labels, strict=True)]
    rates = [
        sum(r for r, label in zip(right, labels, strict=True) if label == kind)
        / max(1, labels.count(kind))
        for kind in (True, False)
    ]
    return sum(right) / len(right), sum(rates) / 2


def print_table(
    title: str, table: dict[str, list[tuple[str, str, bool]]], figures: dict
) -> list[tuple]:
    """Per-group agreement of each checker, also into `figures`; returns the rows the
    project gets wrong."""
    rows = [(group, *case) for group, cases in table.items() for case in cases]
    verdicts = grade_table(rows)
    labels = [row[3] for row in rows]
    print(f"\n== {title}: {len(rows)} cases")
    print(f"{'group':58s}{'n':>4s}" + "".join(f"{name:>10s}" for name in CHECKERS))
    for group in table:
        indices = [i for i, row in enumerate(rows) if row[0] == group]
        shares = [
            agreement([verdicts[name][i] for i in indices], [labels[i] for i in indices])[0]
            for name in CHECKERS
        ]
        print(f"{group[:57]:58s}{len(indices):4d}" + "".join(f"{s:10.1%}" for s in shares))
    totals = [agreement(verdicts[name], labels) for name in CHECKERS]
    figures[title] = {
        "cases": len(rows),
        **{
            name: {"agreement": total[0], "balanced": total[1]}
            for name, total in zip(CHECKERS, totals, strict=True)
        },
        "groups": {
            group: {
                name: agreement(
                    [verdicts[name][i] for i, row in enumerate(rows) if row[0] == group],
                    [row[3] for row in rows if row[0] == group],
                )[0]
                for name in CHECKERS
            }
            for group in table
        },
    }
    print(f"{'total agreement':58s}{len(rows):4d}" + "".join(f"{t[0]:10.1%}" for t in totals))
    print(f"{'balanced accuracy':58s}{'':4s}" + "".join(f"{t[1]:10.1%}" for t in totals))
    return [
        row for row, verdict in zip(rows, verdicts["project"], strict=True) if verdict != row[3]
    ]


def main() -> None:
    logging.disable(logging.WARNING)  # math-verify logs every parse failure
    figures: dict = {
        "date": datetime.date.today().isoformat(),
        "math-verify": version("math-verify"),
    }
    wrong = print_table("failure classes and near-misses (CLASS_CASES)", CLASS_CASES, figures)
    wrong += print_table("regression table (EQUIVALENCE_CASES)", EQUIVALENCE_CASES, figures)
    wrong += print_table("whole completions (COMPLETION_CASES)", COMPLETION_CASES, figures)
    out = Path(__file__).resolve().parent / "results" / "compare_math_verify.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=1) + "\n")
    print(f"\nproject wrong on {len(wrong)} cases:")
    for group, prediction, gold, label in wrong:
        shown = prediction if len(prediction) <= 60 else prediction[:57] + "..."
        print(f"- [{group}] {shown!r} vs gold {gold!r}: label {label}")


if __name__ == "__main__":
    main()
