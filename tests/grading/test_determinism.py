"""Issue #29, item 1: 1,000 (completion, gold) pairs get the same verdicts on an idle machine,
with every core kept busy by other processes, and with 1, 2 or 8 workers.

Most pairs go to the worker pool (symbolic comparisons of 2-5 ms of CPU each), some are decided
in-process (plain numbers), and a few are pathological (2 s of CPU or unbounded, against a
budget of 1 s): they must time out in every run, and nothing else may.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil
import pytest

import mathtune.grading.pool
from mathtune.grading.grader import grade_completions
from mathtune.grading.pool import shutdown_pool

# (completion, gold, equal) families; each index gives a different pair, so none is cached.
POOL_FAMILIES = [
    lambda i: (f"\\boxed{{{i}x}}", f"x*{i}", True),
    lambda i: (f"\\boxed{{x+{i}}}", f"{i}+x", True),
    lambda i: (f"\\boxed{{x+{i}}}", f"x-{i}", False),
    lambda i: (f"\\boxed{{\\sqrt{{{2 * i * i}}}}}", f"{i}\\sqrt{{2}}", True),
    lambda i: (f"\\boxed{{\\frac{{x}}{{{i}}}}}", f"x/{i}", True),
    lambda i: (f"The answer is ${i}y$.", f"y*{i}", True),
    lambda i: (f"\\boxed{{x-{i}}}", f"-{i}+x", True),
    lambda i: (f"\\boxed{{{i}x}}", f"x*{i + 1}", False),
]
PLAIN_FAMILIES = [
    lambda i: (f"The answer is {i}.", f"{i}", True),
    lambda i: (f"\\boxed{{{i}.5}}", f"{i}", False),
]
PATHOLOGICAL = [
    ("\\boxed{(a+b+c+d)^{40}}", "a^{40}"),  # (a+b+c)^{40}, 2 s here, ran within budget in CI
    ("\\boxed{\\sin(x)^{2000}+\\cos(x)^{2000}}", "1"),
    ("\\boxed{10^{10^{10^{10}}}}", "10^{10^{10^{11}}}"),
]


def thousand_pairs() -> list[tuple[str, str, bool | None]]:
    """800 pairs for the pool, 197 decided in-process, 3 pathological (label None)."""
    pool = [POOL_FAMILIES[i % 8](2 + i // 8) for i in range(800)]
    plain = [PLAIN_FAMILIES[i % 2](i) for i in range(197)]
    return pool + plain + [(*pair, None) for pair in PATHOLOGICAL]


def verdicts(pairs: list[tuple[str, str, bool | None]]) -> list[tuple[bool, bool, bool]]:
    grades = grade_completions([pair[0] for pair in pairs], [pair[1] for pair in pairs])
    return [(grade.correct, grade.timed_out, grade.machinery_failure) for grade in grades]


@pytest.fixture
def workers(monkeypatch):
    """Grade with `count` workers: a fresh pool of that size."""

    def use(count: int) -> None:
        shutdown_pool()
        monkeypatch.setattr(mathtune.grading.pool, "WORKERS", count)

    yield use
    shutdown_pool()


def test_verdicts_do_not_depend_on_load_or_on_the_number_of_workers(workers):
    pairs = thousand_pairs()
    expected = [(label is True, label is None, False) for *_, label in pairs]
    workers(2)
    assert verdicts(pairs) == expected, "idle, 2 workers"
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(os.cpu_count() or 1)
    ]
    try:
        start = time.perf_counter()
        busy = verdicts(pairs)
        wall = time.perf_counter() - start
        spun = [sum(psutil.Process(spinner.pid).cpu_times()[:2]) for spinner in spinners]
    finally:
        for spinner in spinners:
            spinner.kill()
    # each ran alongside the whole batch; how much CPU it got depends on the machine's load
    assert min(spun) > 0.1 * wall, "a busy process did not run"
    assert busy == expected, "every core busy, 2 workers"
    for count in (1, 8):
        workers(count)
        assert verdicts(pairs) == expected, f"idle, {count} workers"
