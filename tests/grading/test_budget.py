"""Tests for mathtune.grading.budget: a CPU-time bound that stops what runs past it, only that."""

from __future__ import annotations

import contextlib
import doctest
import itertools
import multiprocessing
import signal
import threading
import time

import pytest

import mathtune.grading.budget
from mathtune.grading.budget import (
    CPU_BUDGET_S,
    call_in_thread,
    call_in_worker,
    prepare_worker,
)


def spin(seconds: float) -> str:
    """Burn `seconds` of this thread's CPU time in Python code, catching what sympy catches."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        with contextlib.suppress(Exception):  # as sympy's and math-verify's handlers do
            sum(range(1000))
    return "done"


def sleep_then_return(seconds: float) -> str:
    time.sleep(seconds)  # wall-clock time without CPU: not counted
    return "done"


@pytest.mark.parametrize(
    ("function", "seconds", "result"),
    [
        (spin, 0.2, "done"),  # within the budget
        (spin, 30.0, None),  # past it: stopped near CPU_BUDGET_S, not after 30 s
        (sleep_then_return, 1.5 * CPU_BUDGET_S, "done"),  # longer in wall time, little CPU
    ],
)
def test_a_call_in_a_thread_is_stopped_by_its_cpu_time_only(function, seconds, result):
    start = time.thread_time()
    assert call_in_thread(function, seconds) == result
    assert time.thread_time() - start < CPU_BUDGET_S + 0.5


def test_the_budget_works_from_many_threads_at_once_and_raises_nothing_after_returning():
    outcomes: list[str | None] = []

    def work(index: int) -> None:
        for _ in range(20):
            outcomes.append(call_in_thread(spin, 0.005))
        outcomes.append(call_in_thread(spin, 30.0) if index == 0 else "done")
        spin(0.3)  # after the budgeted calls: an exception arriving late would end the thread

    threads = [threading.Thread(target=work, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(None) == 1 and outcomes.count("done") == 4 * 21 - 1


def test_sympy_parameters_are_put_back_after_an_interruption():
    from sympy.core.parameters import evaluate, global_parameters

    def stuck_unevaluated() -> None:
        with evaluate(False):
            spin(30.0)

    assert call_in_thread(stuck_unevaluated) is None
    assert global_parameters.evaluate is True


def run_in_child(function, seconds: float, queue) -> None:
    prepare_worker()
    queue.put(call_in_worker(function, seconds))


def stuck_in_c(seconds: float) -> int:
    """One C call of minutes, no bytecode in between: no Python signal handler can run."""
    return sum(itertools.repeat(1, 10**11))


@pytest.mark.parametrize(
    ("function", "outcome"),
    [(spin, [None]), (sleep_then_return, ["done"]), (stuck_in_c, -signal.SIGXCPU)],
    ids=["past the budget in Python", "long in wall time only", "stuck in one C call"],
)
def test_a_call_in_a_worker_is_stopped_by_a_signal_or_killed_by_the_kernel(function, outcome):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=run_in_child, args=(function, 1.5 * CPU_BUDGET_S, queue))
    child.start()
    child.join(timeout=60)
    if isinstance(outcome, list):
        assert child.exitcode == 0 and [queue.get(timeout=5)] == outcome
    else:  # killed once it used its budget and the backstop of CPU time
        assert child.exitcode == outcome


def test_docstring_examples_run():
    assert doctest.testmod(mathtune.grading.budget).failed == 0
