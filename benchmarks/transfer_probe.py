"""Transfer probe: accuracy of the base model and of base + an adapter on problems written
elsewhere. Trains nothing.

Answers every problem of each given set greedily with the project's prompt
(`generate_answers`, the evaluate stage's path) and scores it with the project's answer
checker. Prints, per set and per group (the `family` column of a prepared split, or the
`category` of a JSONL probe file), the accuracy with its standard error and the share of
answers that were boxed; and the same by the size of the problem's longest number (1-2,
3, or 4 and more digits), which tells a skill that stops at small numbers from one that
does not transfer at all.
Sets: Parquet or JSONL files with problem and answer columns, such as
data/prepared/heldout.parquet (families kept out of training),
benchmarks/probe_problems.jsonl (62 problems written by hand in other phrasings) and
benchmarks/probe_procedural.jsonl (60 in the terse style of procedural generators); neither
probe set is trained on. Model and precision come from params.yaml `model:`. `--completions`
writes every completion with its grade, to read what the model gets wrong.

    python benchmarks/transfer_probe.py --adapter models/adapter --per-group 10 \
        data/prepared/heldout.parquet benchmarks/probe_problems.jsonl \
        benchmarks/probe_procedural.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq

from mathtune.core.params import load_params
from mathtune.core.statistics import standard_error
from mathtune.eval.answers import generate_answers
from mathtune.eval.requests import Request
from mathtune.grading.grader import grade_completions
from mathtune.models.generation import Decoding
from mathtune.models.loading import locate_model

GROUP_COLUMNS = ("family", "category")
NUMBER = re.compile(r"\d+")


def read_set(path: Path, per_group: int | None) -> list[dict]:
    """Rows of a Parquet or JSONL set, at most `per_group` of each group, in file order."""
    if path.suffix == ".parquet":
        rows = pq.read_table(path).to_pylist()
    else:
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    column = next((name for name in GROUP_COLUMNS if name in rows[0]), None)
    taken: dict[str, int] = defaultdict(int)
    kept = []
    for row in rows:
        group = str(row.get(column, "all"))
        if row.get("gradable", True) and (per_group is None or taken[group] < per_group):
            taken[group] += 1
            kept.append({**row, "group": group})
    return kept


def size_band(problem: str) -> str:
    """The band of the longest number in the problem: how much column work it asks for."""
    digits = max((len(number.lstrip("0") or "0") for number in NUMBER.findall(problem)), default=0)
    return "1-2 digits" if digits <= 2 else "3 digits" if digits == 3 else "4+ digits"


def grade_set(rows: list[dict], texts: list[str]) -> list[dict]:
    """Each completion with its problem, gold answer and grade, in the order of `rows`."""
    grades = grade_completions(texts, [row["answer"] for row in rows])
    return [
        {
            "group": row["group"],
            "size": size_band(row["problem"]),
            "problem": row["problem"],
            "answer": row["answer"],
            "extracted": grade.extracted,
            "correct": grade.correct,
            "boxed": grade.boxed,
            "completion": text,
        }
        for row, text, grade in zip(rows, texts, grades, strict=True)
    ]


def score(graded: list[dict], key: str = "group") -> dict[str, dict[str, float]]:
    """Accuracy, its standard error and the boxed rate, overall and per value of `key`."""
    results: dict[str, list[dict]] = defaultdict(list)
    for record in graded:
        results["ALL"].append(record)
        results[record[key]].append(record)
    return {
        group: {
            "n": len(records),
            "accuracy": round(sum(record["correct"] for record in records) / len(records), 3),
            "stderr": round(standard_error(record["correct"] for record in records), 3),
            "boxed": round(sum(record["boxed"] for record in records) / len(records), 3),
        }
        for group, records in sorted(results.items())
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path, help="Parquet/JSONL problem sets")
    parser.add_argument("--adapter", required=True, type=Path, help="adapter folder")
    parser.add_argument("--per-group", type=int, default=None, help="problems per group")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--show", type=int, default=3, help="completions printed per set")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--completions", type=Path, help="also write every graded completion here (JSONL)"
    )
    args = parser.parse_args()
    params = load_params()
    sets = {str(path): read_set(path, args.per_group) for path in args.sets}
    decoding = Decoding(args.max_new_tokens)
    requests = [
        Request(name, [row["problem"] for row in rows], decoding) for name, rows in sets.items()
    ]
    start = time.perf_counter()
    answers = generate_answers(
        locate_model(params.model),
        {"tuned": args.adapter},
        requests,
        params.evaluate,
        params.model.precision,
    )
    seconds = time.perf_counter() - start
    print(f"{sum(map(len, sets.values()))} problems x {len(answers)} models in {seconds:.0f} s")
    figures, records = {}, []
    for name, rows in sets.items():
        for model, by_request in answers.items():
            graded = grade_set(rows, [completions[0].text for completions in by_request[name]])
            records += [{"set": name, "model": model, **record} for record in graded]
            figures[f"{name} {model}"] = score(graded)
            figures[f"{name} {model} by largest number"] = score(graded, "size")
            overall = figures[f"{name} {model}"]["ALL"]
            print(
                f"{name} {model}: accuracy {overall['accuracy']:.3f} "
                f"(standard error {overall['stderr']:.3f}) boxed {overall['boxed']:.3f}"
            )
            shown = args.show if model == "tuned" else 0
            for record in graded[:shown]:
                print(
                    f"  {record['problem'][:70]!r} gold {record['answer']!r} "
                    f"-> {record['completion'][-120:]!r}"
                )
    for key, groups in figures.items():
        shares = {g: f"{v['accuracy']:.3f} of {v['n']}" for g, v in groups.items() if g != "ALL"}
        print(key, json.dumps(shares))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    if args.completions:
        args.completions.write_text("".join(json.dumps(record) + "\n" for record in records))


if __name__ == "__main__":
    main()
