"""Benchmark: `mathtune solve --file` against the evaluate stage's path, on the same problems.

200 curriculum problems (with gold answers) are answered twice in one process, each time
from a fresh model load: by `mathtune solve --file` (what a user runs, less the interpreter
start) and by the evaluate stage's `generate_answers` + `score_generations`, with the same
model, decoding (greedy, evaluate.max_new_tokens), batch size (evaluate.batch_size) and
precision (model.precision). Both figures count loading, generating and grading. Run from
the repository root on an otherwise idle machine (the load average is recorded: other
processes slow either path many-fold); writes benchmarks/results/bench_solve.json.

    .venv/bin/python benchmarks/bench_solve.py                 # embedded default, base model
    .venv/bin/python benchmarks/bench_solve.py --model grpo    # solve's path with an adapter
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import json
import os
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import torch
from bench_performance import cpu_name

from mathtune.__main__ import main as mathtune_main
from mathtune.core.params import load_params
from mathtune.curriculum.rows import generate_row
from mathtune.eval.answers import generate_answers
from mathtune.eval.requests import Request
from mathtune.eval.scoring import score_generations
from mathtune.eval.sets import EvalSet, Problem
from mathtune.models.generation import Decoding
from mathtune.models.loading import locate_model, resolve_dtype
from mathtune.solve.problems import read_problems

RESULTS = Path(__file__).resolve().parent / "results" / "bench_solve.json"


def write_problems(path: Path, count: int) -> None:
    rows = [generate_row(seed=0, index=index) for index in range(count)]
    lines = [json.dumps({"problem": row["problem"], "answer": row["answer"]}) for row in rows]
    path.write_text("\n".join(lines) + "\n")


def time_solve(problems: Path, out: Path, model: str) -> tuple[float, str]:
    """Seconds of `mathtune solve --file` in this process, and what it printed."""
    printed = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(printed):
        mathtune_main(["solve", "--file", str(problems), "--model", model, "--out", str(out)])
    return time.perf_counter() - start, printed.getvalue()


def time_evaluate(problems: Path) -> tuple[float, float]:
    """Seconds of the evaluate stage's path on the base model, and its accuracy."""
    params = load_params()
    start = time.perf_counter()
    rows = read_problems(problems)
    eval_set = EvalSet(
        "file", [Problem(str(i), row.problem, row.answer, "", "") for i, row in enumerate(rows)]
    )
    request = Request(
        "file", [row.problem for row in rows], Decoding(params.evaluate.max_new_tokens)
    )
    answers = generate_answers(
        locate_model(params.model), {}, [request], params.evaluate, params.model.precision
    )
    generations = [completions[0] for completions in answers["base"]["file"]]
    predictions = score_generations("base", eval_set, generations)
    seconds = time.perf_counter() - start
    return seconds, sum(p.correct for p in predictions) / len(predictions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=200)
    parser.add_argument("--model", default="base", help="solve's --model (evaluate runs base)")
    args = parser.parse_args()
    params = load_params()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as directory:
        problems = Path(directory) / "problems.jsonl"
        write_problems(problems, args.problems)
        evaluate_seconds, evaluate_accuracy = time_evaluate(problems)
        solve_seconds, printed = time_solve(problems, Path(directory) / "out.jsonl", args.model)
    result = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": f"{cpu_name()}, {os.cpu_count()} cores",
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "versions": {name: version(name) for name in ("torch", "transformers", "peft")},
        "model_source": params.model.source,
        "solve_model": args.model,
        "dtype": str(resolve_dtype(params.model.precision)),
        "threads": torch.get_num_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),  # 1 helps on a shared machine
        "problems": args.problems,
        "batch_size": params.evaluate.batch_size,
        "max_new_tokens": params.evaluate.max_new_tokens,
        "load_average_before": [round(load, 2) for load in load_before],
        "load_average_after": [round(load, 2) for load in os.getloadavg()],
        "solve_seconds": round(solve_seconds, 1),
        "solve_problems_per_s": round(args.problems / solve_seconds, 2),
        "solve_printed": printed.strip().splitlines(),
        "evaluate_seconds": round(evaluate_seconds, 1),
        "evaluate_problems_per_s": round(args.problems / evaluate_seconds, 2),
        "evaluate_accuracy": round(evaluate_accuracy, 4),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(printed, end="")
    for path in ("solve", "evaluate"):
        print(
            f"{path:<9} {result[f'{path}_seconds']:7.1f} s  "
            f"{result[f'{path}_problems_per_s']:5.2f} problems/s (load + generate + grade)"
        )
    print(
        f"ratio solve/evaluate: {evaluate_seconds / solve_seconds:.2f}; load average "
        f"{result['load_average_before']} -> {result['load_average_after']}; wrote {RESULTS}"
    )


if __name__ == "__main__":
    main()
