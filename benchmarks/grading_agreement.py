r"""Benchmark: agreement of the grader with answer-equivalence labels others wrote.

Four sets of (completion, gold, label) cases, each graded two ways:

- `grading_others_cases.jsonl`: cases from other projects' test suites (math-verify,
  lighteval, NeMo-Skills, Hendrycks' MATH, TRL, verl, ...), with the labels as they wrote
  them; `grading_others_cases.md` says where each comes from and which were left out, why;
- `grading_kinds_cases.jsonl`: cases written for the kinds issue #29 names (final answers in
  other languages without a box, percents, separators and units in prose, expressions the
  extractor cut short, golds that carry words), labelled from the mathematics;
- `grading_holdout_cases.jsonl`: more cases from other projects' tests (Math-Verify's
  NuminaMath and OpenThoughts cases, inspect_ai's math scorer, slime), collected after the
  grader was fixed on the first two sets and before it was run on them: its first-run
  figure is `results/grading_agreement_holdout_first_run.json`;
- `grading_fresh_cases.jsonl`: cases of kinds none of the fixes aimed at (notation, sets
  and relations, text and units, whole completions), written and labelled from the
  mathematics after the fixes to the holdout set, before the grader was run on them
  (`results/grading_agreement_fresh_first_run.json`).

The checkers: "grader" is `mathtune.grading.grader.grade_completions`, as rewards and
evaluation call it; "math-verify" is math-verify alone, `verify(parse(gold),
parse(completion))` with its defaults, run in this main thread where its own time limits
work. Printed: agreement and balanced accuracy (the mean of the rates on equal and on
unequal pairs) per set and per source, then every case the grader gets wrong. The figures go
to `benchmarks/results/grading_agreement.json` with the versions and the date.

    python benchmarks/grading_agreement.py
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import platform
import subprocess
from collections import defaultdict
from importlib.metadata import version
from pathlib import Path

from math_verify import parse, verify

from mathtune.grading.grader import grade_completions

BENCHMARKS = Path(__file__).resolve().parent
SETS = {
    "others": BENCHMARKS / "grading_others_cases.jsonl",
    "kinds": BENCHMARKS / "grading_kinds_cases.jsonl",
    "holdout": BENCHMARKS / "grading_holdout_cases.jsonl",
    "fresh": BENCHMARKS / "grading_fresh_cases.jsonl",
}


def load_cases(path: Path) -> list[dict]:
    """The cases of one JSONL file: completion, gold, label and where the case comes from."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def math_verify_alone(completion: str, gold: str) -> bool:
    """math-verify's verdict with its defaults, gold first as its `verify` expects."""
    return bool(verify(parse(gold), parse(completion)))


def agreement(verdicts: list[bool], labels: list[bool]) -> dict[str, float]:
    """Share of verdicts equal to the labels, and the balanced accuracy."""
    right = [verdict == label for verdict, label in zip(verdicts, labels, strict=True)]
    rates = []
    for kind in (True, False):
        kept = [ok for ok, label in zip(right, labels, strict=True) if label is kind]
        rates.append(sum(kept) / max(1, len(kept)))
    return {"agreement": sum(right) / max(1, len(right)), "balanced": sum(rates) / 2}


def score_set(cases: list[dict]) -> dict:
    """Both checkers' figures on one set, per source too, and the grader's misses."""
    grades = grade_completions([c["completion"] for c in cases], [c["gold"] for c in cases])
    verdicts = {
        "grader": [grade.correct for grade in grades],
        "math-verify": [math_verify_alone(c["completion"], c["gold"]) for c in cases],
    }
    labels = [c["label"] for c in cases]
    by_source: dict[str, list[int]] = defaultdict(list)
    for index, case in enumerate(cases):
        by_source[case.get("repo", case.get("kind", "?"))].append(index)
    return {
        "cases": len(cases),
        "labelled_equal": sum(labels),
        "checkers": {name: agreement(v, labels) for name, v in verdicts.items()},
        "timeouts": sum(grade.timed_out for grade in grades),
        "by_source": {
            source: {
                "cases": len(indices),
                **{
                    name: agreement([v[i] for i in indices], [labels[i] for i in indices])[
                        "agreement"
                    ]
                    for name, v in verdicts.items()
                },
            }
            for source, indices in sorted(by_source.items())
        },
        "grader_wrong": [
            {**case, "extracted": grade.extracted}
            for case, grade in zip(cases, grades, strict=True)
            if grade.correct != case["label"]
        ],
    }


def print_set(name: str, figures: dict) -> None:
    print(f"\n== {name}: {figures['cases']} cases, {figures['labelled_equal']} labelled equal")
    for checker, shares in figures["checkers"].items():
        print(f"  {checker:12s} agreement {shares['agreement']:6.1%}", end="  ")
        print(f"balanced {shares['balanced']:6.1%}")
    print(f"  grader time-outs: {figures['timeouts']}")
    print(f"  {'source':44s}{'n':>5s}{'grader':>9s}{'m-v':>9s}")
    for source, row in figures["by_source"].items():
        print(f"  {source[:43]:44s}{row['cases']:5d}{row['grader']:9.1%}{row['math-verify']:9.1%}")
    print(f"  grader wrong on {len(figures['grader_wrong'])}:")
    for case in figures["grader_wrong"]:
        text = case["completion"]
        shown = text if len(text) <= 70 else "..." + text[-67:]
        print(f"  - label {case['label']!s:5s} {shown!r} vs gold {case['gold'][:60]!r}", end="")
        print(f" (read {case['extracted']!r:.40})")


def provenance() -> dict[str, str]:
    """Versions, commit and date the figures were measured with."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=BENCHMARKS
    ).stdout.strip()
    return {
        "date": datetime.date.today().isoformat(),
        "commit": commit,
        "python": platform.python_version(),
        **{package: version(package) for package in ("math-verify", "sympy", "pebble")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=BENCHMARKS / "results/grading_agreement.json")
    arguments = parser.parse_args()
    logging.disable(logging.WARNING)  # math-verify logs every parse failure
    results = {"provenance": provenance(), "sets": {}}
    for name, path in SETS.items():
        results["sets"][name] = score_set(load_cases(path))
        print_set(name, results["sets"][name])
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(f"\nwritten to {arguments.out}")


if __name__ == "__main__":
    main()
