r"""Benchmark: how fast the grader decides, one comparison at a time and 10,000 in a batch.

The pool is started and warmed before any timing, as it is once per training or evaluate
run. Measured:

- latency: completions graded alone through `grade_completions`, milliseconds of
  wall-clock time per call, p50 and p99, for two sets: 1,000 of the curriculum mix below,
  and the case table's comparisons that reach math-verify (tests/grading/grading_cases.py,
  adversarial groups left out), whose CPU time per comparison (the same code run in this
  thread) is also given: it is what math-verify costs, not the pool;
- throughput: 10,000 completions graded in one batch, two mixes:
  - "curriculum": this project's GRPO data (`mathtune.curriculum.generate_row`: solutions
    and model-like traces, boxed or not, some with no answer), about 1 in 6 needing
    math-verify;
  - "symbolic": 10,000 distinct pairs that all need math-verify (sums, products, roots,
    fractions and sets of symbols, equal or not);
  printing comparisons per second of wall-clock time, and the CPU seconds the batch used
  (this process and its workers): the rate two idle cores would give is 2 x comparisons /
  CPU seconds, a figure the machine's load does not change.

Load averages are recorded before and after each part. The figures go to
`benchmarks/results/grading_speed.json`.

    python benchmarks/grading_speed.py
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import psutil

from mathtune.curriculum.rows import generate_row
from mathtune.grading.compare import answers_equal, compare_plain
from mathtune.grading.extract import extract_answer, extract_gold
from mathtune.grading.grader import grade_completions
from mathtune.grading.pool import WORKERS

BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS.parent / "tests" / "grading"))
from grading_cases import CLASS_CASES, COMPLETION_CASES, EQUIVALENCE_CASES, flatten  # noqa: E402

BATCH = 10_000
ADVERSARIAL = {
    "huge and adversarial values stay comparable",
    "garbage never crashes and never matches",
}
# Distinct pairs that all reach math-verify: (completion, gold) for index i.
SYMBOLIC: list[Callable[[int], tuple[str, str]]] = [
    lambda i: (f"\\boxed{{{i}x}}", f"x*{i}"),
    lambda i: (f"\\boxed{{x+{i}}}", f"{i}+x"),
    lambda i: (f"\\boxed{{x+{i}}}", f"x-{i}"),
    lambda i: (f"\\boxed{{\\sqrt{{{2 * i * i}}}}}", f"{i}\\sqrt{{2}}"),
    lambda i: (f"\\boxed{{\\frac{{x}}{{{i}}}}}", f"x/{i}"),
    lambda i: (f"The answer is ${i}y$.", f"y*{i}"),
    lambda i: (f"\\boxed{{\\{{{i}, {i + 1}\\}}}}", f"\\{{{i + 1}, {i}\\}}"),
    lambda i: (f"\\boxed{{(x+{i})^2}}", f"x^2+{2 * i}x+{i * i}"),
]


def pool_pairs() -> list[tuple[str, str]]:
    """The case table's (completion, gold) pairs that reach math-verify, adversarial aside."""
    rows = flatten(CLASS_CASES) + flatten(EQUIVALENCE_CASES) + flatten(COMPLETION_CASES)
    pairs = []
    for group, completion, gold, _ in rows:
        found, gold_text = extract_answer(completion), extract_gold(gold)
        if group in ADVERSARIAL or found is None or gold_text is None:
            continue
        if compare_plain(found.text, gold_text) is None:
            pairs.append((completion, gold))
    return pairs


def quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50_ms": statistics.median(ordered) * 1e3, "p99_ms": p99 * 1e3}


def measure_latency(pairs: list[tuple[str, str]], with_cpu: bool) -> dict:
    """Wall time of each pair graded alone, and, if asked, the CPU time of its comparison."""
    load = os.getloadavg()[0]
    walls = []
    for completion, gold in pairs:
        start = time.perf_counter()
        grade_completions([completion], [gold])
        walls.append(time.perf_counter() - start)
    figures = {"completions": len(pairs), "wall": quantiles(walls), "load_before": load}
    if with_cpu:
        cpus = []
        for completion, gold in pairs:
            predicted, gold_text = extract_answer(completion).text, extract_gold(gold)
            start = time.thread_time()
            answers_equal(predicted, gold_text)
            cpus.append(time.thread_time() - start)
        figures["cpu"] = quantiles(cpus)
    return figures | {"load_after": os.getloadavg()[0]}


def curriculum_batch() -> list[tuple[str, str]]:
    """10,000 (completion, gold) pairs of this project's GRPO data."""
    pairs: list[tuple[str, str]] = []
    index = 0
    while len(pairs) < BATCH:
        row = generate_row(seed=1, index=index)
        pairs += [(text, row["answer"]) for text in [*row["generations"], row["solution"]]]
        index += 1
    return pairs[:BATCH]


def symbolic_batch() -> list[tuple[str, str]]:
    return [SYMBOLIC[i % len(SYMBOLIC)](2 + i // len(SYMBOLIC)) for i in range(BATCH)]


def cpu_seconds() -> float:
    """CPU time of this process and of its children (the workers), user and system."""
    processes = [psutil.Process(), *psutil.Process().children(recursive=True)]
    total = 0.0
    for process in processes:
        try:
            total += sum(process.cpu_times()[:2])
        except psutil.NoSuchProcess:
            continue
    return total


def measure_batch(pairs: list[tuple[str, str]]) -> dict:
    """Throughput of one batch: wall-clock, and what two idle cores would give."""
    to_pool = sum(
        1
        for completion, gold in pairs
        if (found := extract_answer(completion))
        and (gold_text := extract_gold(gold))
        and compare_plain(found.text, gold_text) is None
    )
    load, cpu, start = os.getloadavg()[0], cpu_seconds(), time.perf_counter()
    grades = grade_completions([p[0] for p in pairs], [p[1] for p in pairs])
    wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    return {
        "completions": len(pairs),
        "to_math_verify": to_pool,
        "wall_s": wall,
        "per_s_wall": len(pairs) / wall,
        "cpu_s": cpu,
        "per_s_on_2_idle_cores": 2 * len(pairs) / cpu,
        "timeouts": sum(grade.timed_out for grade in grades),
        "machinery_failures": sum(grade.machinery_failure for grade in grades),
        "load_before": load,
        "load_after": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=BENCHMARKS / "results/grading_speed.json")
    out = parser.parse_args().out
    grade_completions([r"\boxed{(x+1)^2}"], ["x^2+2x+1"])  # start and warm the pool
    results = {
        "provenance": {
            "date": datetime.date.today().isoformat(),
            "python": platform.python_version(),
            "cores": os.cpu_count(),
            "workers": WORKERS,
            **{package: version(package) for package in ("math-verify", "sympy", "pebble")},
        },
        "latency": {
            "curriculum": measure_latency(curriculum_batch()[:1000], with_cpu=False),
            "table": measure_latency(pool_pairs(), with_cpu=True),
        },
        "curriculum": measure_batch(curriculum_batch()),
        "symbolic": measure_batch(symbolic_batch()),
    }
    for name, latency in results["latency"].items():
        print(f"latency of one completion alone, {name} ({latency['completions']}):")
        for kind in ("wall", "cpu"):
            if kind in latency:
                print(f"  {kind:5s} p50 {latency[kind]['p50_ms']:7.2f} ms", end="")
                print(f"  p99 {latency[kind]['p99_ms']:7.2f} ms")
        print(f"  load average {latency['load_before']:.1f} -> {latency['load_after']:.1f}")
    for mix in ("curriculum", "symbolic"):
        batch = results[mix]
        print(
            f"{mix}: {batch['completions']} completions, {batch['to_math_verify']} to math-verify"
        )
        print(
            f"  {batch['per_s_wall']:7.0f}/s wall ({batch['wall_s']:.1f} s, load average", end=" "
        )
        print(f"{batch['load_before']:.1f} -> {batch['load_after']:.1f})")
        rate, cpu = batch["per_s_on_2_idle_cores"], batch["cpu_s"]
        print(f"  {rate:7.0f}/s on 2 idle cores ({cpu:.1f} CPU s)")
        print(f"  time-outs {batch['timeouts']}, machinery failures {batch['machinery_failures']}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
