r"""A CPU-time budget for one comparison: the same verdict on an idle or a busy machine.

A comparison that runs past CPU_BUDGET_S seconds of its own CPU time is stopped and counts as
timed out (scored incorrect). CPU time, unlike wall-clock time, does not grow when other
processes share the cores, so load cannot turn a legitimate comparison into a time-out.
Two ways to stop one, the same budget for both:

- in a worker process (`call_in_worker`): `ITIMER_PROF` raises `BudgetExceeded` in the
  worker's main thread when the process has spent the budget; for code stuck inside one C
  call, where no Python signal handler runs, `RLIMIT_CPU` makes the kernel kill the worker
  BACKSTOP_S seconds later (SIGXCPU), which also counts as timed out;
- in any thread of any process (`call_in_thread`), without signals: a watchdog thread reads
  the calling thread's CPU-time clock every POLL_S and raises `BudgetExceeded` in it
  (`PyThreadState_SetAsyncExc`) once it has spent the budget. It costs the comparison
  nothing (a profile hook that checked the clock made comparisons 2.3-3.2x slower, which
  would have brought legitimate ones closer to the budget than in a worker). Garbage
  collection inside the comparison is left out of the count: its cost depends on the whole
  process's heap, not on the comparison. A single long C call runs to its end first.

`BudgetExceeded` is a BaseException, so that the `except Exception` clauses of sympy,
latex2sympy and math-verify (whose own `TimeoutException` it is not) let it through. An
interruption can land anywhere, in sympy's `with evaluate(False)` exit code too, so sympy's
parameters are put back and its cache emptied after one.

Budget, measured on the 337 comparisons of this project's case table and benchmarks that
reach math-verify (CPU seconds per comparison, idle 2-core machine): median 0.007, p99 0.11,
slowest legitimate 0.18 (`1e999999` against 1); pathological ones 2.1 (`(a+b+c)^{40}`), 4.0
(a tower of 400 `x^`), or unbounded. 1.0 s is 5x the slowest legitimate one and half the
cheapest pathological one; under a load average of 10 CPU times grew up to 2.8x (shared
caches), still under the budget.

    >>> call_in_thread(sum, [1, 2, 3])
    6
"""

from __future__ import annotations

import ctypes
import gc
import math
import os
import resource
import signal
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

CPU_BUDGET_S = 1.0
BACKSTOP_S = 2  # whole seconds, RLIMIT_CPU's unit, after the budget before the kernel kills
POLL_S = 0.01  # how often the watchdog reads the CPU clocks of budgeted threads


class BudgetExceeded(BaseException):
    """A comparison ran past CPU_BUDGET_S of CPU time."""


# ---------------------------------------------------------------- in a worker process


def prepare_worker() -> None:
    """Install the budget's signal handler and stop core dumps: run once per worker process,
    in its main thread (where pebble runs every task)."""
    signal.signal(signal.SIGPROF, _raise_budget_exceeded)
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (0, hard))  # a SIGXCPU kill writes no core file


def call_in_worker(function: Callable[..., T], *args: Any) -> T | None:
    """`function(*args)`, or None when it ran past the budget. Worker main thread only."""
    try:
        with _sympy_kept():
            _limit_process_cpu(CPU_BUDGET_S + BACKSTOP_S)
            try:
                signal.setitimer(signal.ITIMER_PROF, CPU_BUDGET_S)
                return function(*args)
            finally:
                signal.setitimer(signal.ITIMER_PROF, 0)
                _limit_process_cpu(None)
    except BudgetExceeded:
        return None


def _raise_budget_exceeded(signum: int, frame: Any) -> None:
    raise BudgetExceeded


def _limit_process_cpu(seconds: float | None) -> None:
    """Let the kernel kill this process once it has used `seconds` more CPU (None: never)."""
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = hard
    if seconds is not None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        soft = math.ceil(usage.ru_utime + usage.ru_stime + seconds)
        soft = soft if hard == resource.RLIM_INFINITY else min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


# ---------------------------------------------------------------- in any thread


@dataclass
class _Watch:
    """One budgeted call, as the watchdog sees it. `injecting` and `active` make the hand-off
    safe under the GIL: the watchdog raises only while `active`, and the caller, once it has
    cleared `active`, waits for an injection under way to finish before it clears it."""

    clock: int  # the thread's CPU-time clock
    limit: float
    gc_spent: float = 0.0
    gc_started: float | None = None
    active: bool = True
    injecting: bool = False


_watched: dict[int, _Watch] = {}  # thread ident -> its budgeted call
_wake = threading.Event()
_watchdog_lock = threading.Lock()
_watchdog: threading.Thread | None = None


def call_in_thread(function: Callable[..., T], *args: Any) -> T | None:
    """`function(*args)`, or None when it ran past the budget; no signals, any thread."""
    ident = threading.get_ident()
    clock = time.pthread_getcpuclockid(ident)
    watch = _Watch(clock, time.clock_gettime(clock) + CPU_BUDGET_S)
    try:
        try:
            with _sympy_kept():
                _watched[ident] = watch
                _start_watchdog()
                return function(*args)
        finally:
            _stop_watching(ident, watch)
    except BudgetExceeded:
        return None


def _stop_watching(ident: int, watch: _Watch) -> None:
    """End the watch so that no BudgetExceeded can reach the caller after it returns."""
    while True:
        try:
            watch.active = False
            while watch.injecting:
                time.sleep(0)  # let the watchdog finish raising, then clear what it raised
            _set_async_exception(ident, None)
            _watched.pop(ident, None)
            return
        except BudgetExceeded:  # raised by the watchdog inside this function: finish anyway
            continue


def _start_watchdog() -> None:
    global _watchdog
    _wake.set()
    with _watchdog_lock:
        if _watchdog is None or not _watchdog.is_alive():
            _watchdog = threading.Thread(target=_watch_forever, name="grading-budget", daemon=True)
            _watchdog.start()


def _watch_forever() -> None:
    """Every POLL_S, raise BudgetExceeded in each watched thread past its budget (again and
    again, should the comparison swallow it), outside garbage collection."""
    while True:
        if not _watched:
            _wake.wait()
            _wake.clear()
        time.sleep(POLL_S)
        for ident, watch in list(_watched.items()):
            watch.injecting = True
            spent = time.clock_gettime(watch.clock) - watch.gc_spent
            if watch.active and watch.gc_started is None and spent > watch.limit:
                _set_async_exception(ident, BudgetExceeded)
            watch.injecting = False


def _set_async_exception(ident: int, exception: type[BaseException] | None) -> None:
    """Raise `exception` in thread `ident` at its next bytecode, or clear a pending one."""
    argument = ctypes.py_object(exception) if exception else None  # None: a NULL pointer
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), argument)


def _count_collections(phase: str, info: dict) -> None:
    """gc callback: leave collections run inside a budgeted call out of its CPU time."""
    watch = _watched.get(threading.get_ident())
    if watch is None:
        return
    now = time.clock_gettime(watch.clock)
    if phase == "start":
        watch.gc_started = now
    elif watch.gc_started is not None:
        watch.gc_spent += now - watch.gc_started
        watch.gc_started = None


def _forget_watches() -> None:
    """In a forked child: the parent's threads, their watches and the watchdog are gone."""
    global _wake, _watchdog_lock, _watchdog
    _watched.clear()
    _wake, _watchdog_lock, _watchdog = threading.Event(), threading.Lock(), None


gc.callbacks.append(_count_collections)
os.register_at_fork(after_in_child=_forget_watches)


# ---------------------------------------------------------------- both


@contextmanager
def _sympy_kept():
    """Put sympy's (thread-local) parameters back and empty its cache after an interruption."""
    parameters = sys.modules.get("sympy.core.parameters")
    saved = dict(vars(parameters.global_parameters)) if parameters else {}
    try:
        yield
    except BudgetExceeded:
        if parameters:
            for name, value in saved.items():
                setattr(parameters.global_parameters, name, value)
            sys.modules["sympy.core.cache"].clear_cache()
        raise
