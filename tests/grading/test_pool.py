"""Tests for mathtune.grading.pool: CPU-bounded workers, and the way round a pool that fails."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import psutil

import mathtune.grading.pool
from mathtune.grading.pool import TIMED_OUT, Verdict, compare_pairs, shutdown_pool

# sympy expands this for 2.1 s of CPU on an idle 2-core machine: twice the budget.
STUCK = ("(a+b+c+d)^{40}", "a^{40}")  # over 25 CPU seconds here: past the budget anywhere
EQUAL = Verdict(equal=True)
UNEQUAL = Verdict(equal=False)
IN_PROCESS_EQUAL = Verdict(equal=True, machinery_failure=True)


def pool_workers() -> list[psutil.Process]:
    """This process's grading workers: the forkserver's children."""
    return [
        worker
        for child in psutil.Process().children()
        for worker in child.children()
        if "forkserver" in " ".join(child.cmdline())
    ]


def test_a_comparison_past_its_cpu_budget_times_out_and_the_pool_goes_on():
    results = compare_pairs([STUCK, ("x+1", "1+x"), STUCK[::-1], ("(x+1)^2", "x^2+2x+1")])
    assert results == [TIMED_OUT, EQUAL, TIMED_OUT, EQUAL]


def test_a_batch_is_answered_in_order():
    pairs = [(f"{i}x", f"x*{i}") for i in range(40)] + [("x", "y"), ("0x", "x*0")]
    assert compare_pairs(pairs) == [EQUAL] * 40 + [UNEQUAL, EQUAL]


def test_a_pool_shut_down_starts_again_on_the_next_call():
    shutdown_pool()
    assert compare_pairs([("x+1", "1+x")]) == [EQUAL]


def test_workers_killed_in_a_batch_are_replaced_and_their_comparisons_run_again():
    compare_pairs([("x+1", "1+x")])  # the pool is up
    pairs = [STUCK] + [(f"({i}+x)^2", f"x^2+{2 * i}x+{i * i}") for i in range(60)]
    killed: list[psutil.Process] = []

    def kill_workers() -> None:
        killed.extend(pool_workers())
        for worker in killed:
            worker.kill()

    killer = threading.Timer(0.3, kill_workers)
    killer.start()
    results = compare_pairs(pairs)
    killer.join()
    assert killed, "no worker was running to kill"
    assert results == [TIMED_OUT] + [EQUAL] * 60  # no machinery failure: the retries ran


def test_a_hung_pool_is_given_up_and_the_batch_graded_in_process(monkeypatch, caplog):
    compare_pairs([("x+1", "1+x")])
    monkeypatch.setattr(mathtune.grading.pool, "STALL_S", 1.0)
    for worker in pool_workers():
        worker.suspend()  # alive and silent: no task can finish
    results = compare_pairs([("(x+1)^2", "x^2+2x+1"), ("x", "y"), STUCK])
    assert results == [
        IN_PROCESS_EQUAL,
        Verdict(False, machinery_failure=True),
        Verdict(False, timed_out=True, machinery_failure=True),
    ]
    assert "no comparison finished in 1 s" in caplog.text
    assert compare_pairs([("x+1", "1+x")]) == [EQUAL]  # a new pool


# A process allowed two more open files than it holds: the pool's pipes cannot be made.
OUT_OF_FILES = """
    import os, resource
    import mathtune.grading.worker  # sympy imported before the files run out
    from mathtune.grading.pool import compare_pairs
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 2, hard))
    results = compare_pairs([(r"\\frac{\\sqrt{2}}{2}", r"\\frac{1}{\\sqrt{2}}"), ("x", "y")])
    print([(r.equal, r.machinery_failure) for r in results])
"""


def test_a_pool_refused_its_files_grades_in_process():
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(OUT_OF_FILES)],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ,
    )
    assert result.stdout.strip().splitlines()[-1] == "[(True, True), (False, True)]", result.stderr
    assert "could not run 2 of 2 comparisons" in result.stderr
