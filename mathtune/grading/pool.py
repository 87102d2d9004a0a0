"""Comparisons in worker processes, each under a CPU-time budget; in-process when they cannot.

math-verify's own time limits use SIGALRM, which works only in the main thread (TRL calls
rewards from others), and its parser can run for minutes on adversarial LaTeX. So every
comparison that is not decided in-process by `compare.compare_plain` runs in a persistent
`pebble.ProcessPool` worker, bounded by its own CPU time (`budget.call_in_worker`): a
comparison past CPU_BUDGET_S counts as "not equal" and as timed out, whatever the load. The
parent sets no wall-clock deadline that could decide a verdict; it only gives up on a pool
in which no task has finished for STALL_S (a hung pool, not a slow comparison: each one is
bounded by its CPU budget) and grades what is left in-process, where the verdicts are the
same.

When the pool cannot run (a daemonic process cannot start children, as in a
`multiprocessing.Pool` or torch DataLoader worker; no forkserver; a fork refused for
resources; the pool breaks or stalls), the comparisons run in the calling thread under the
same CPU budget (`budget.call_in_thread`, signal-free, safe from any thread), one at a time
per process as sympy's cache is shared by all threads, and each is flagged as a machinery
failure and logged: never a silent 0.0. A comparison whose worker died twice for another
reason than its CPU limit is lost: scored incorrect, flagged a machinery failure, logged.

Workers start with `forkserver`: forking a process that holds torch's thread pools can hang
the child. The forkserver imports `mathtune.grading.worker` once (PRELOAD), which imports
math-verify and warms it up, so a worker, and one that replaces a killed worker, starts ready
at once. multiprocessing would also run the caller's main script again in every worker (a
stage script imports torch; a script without an `if __name__ == "__main__"` guard would
start pools recursively), so workers are launched with `__main__` hidden. Comparisons go to
the workers in chunks of up to MAX_CHUNK, as one round trip costs about as much as a simple
comparison. The pool is created on first use under a lock (safe from any thread, created
again in a forked child) and shut down at exit.
"""

from __future__ import annotations

import atexit
import importlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import types
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from multiprocessing.context import ForkServerContext, ForkServerProcess

from pebble import ProcessExpired, ProcessPool

from mathtune.grading.budget import call_in_thread, call_in_worker, prepare_worker
from mathtune.grading.compare import answers_equal

logger = logging.getLogger(__name__)

# One per core: more would only share the cores. Two at least, so that one answers while a
# killed one is replaced. Each holds sympy, about 100 MB.
WORKERS = max(2, min(8, os.cpu_count() or 1))
PRELOAD = ["mathtune.grading.worker"]  # run by the workers: a dependency of their callers
MAX_CHUNK = 16  # pairs per task: IPC then costs under 10% of a typical comparison
# No task finished for this long: the pool is hung. Generous, as giving up changes no verdict
# (the rest is graded in-process under the same budget), only speed and the failure count.
STALL_S = 60.0

Pair = tuple[str, str]


@dataclass(frozen=True)
class Verdict:
    """One comparison's outcome. `timed_out`: it ran past its CPU budget (scored not
    equal). `machinery_failure`: the pool could not run it, so it was graded in-process
    (the verdict stands) or, when its worker died twice, lost (scored not equal)."""

    equal: bool
    timed_out: bool = False
    machinery_failure: bool = False


TIMED_OUT = Verdict(equal=False, timed_out=True)
LOST = Verdict(equal=False, machinery_failure=True)


class _PoolFailed(Exception):
    """The pool could not run the rest of a batch; `done` holds what it did run."""

    def __init__(self, reason: str, done: dict[Pair, Verdict]):
        super().__init__(reason)
        self.done = done


_lock = threading.Lock()
_launch_lock = threading.Lock()
_in_process_lock = threading.Lock()
_pool: ProcessPool | None = None
_pool_pid: int | None = None


def compare_pairs(pairs: Sequence[Pair]) -> list[Verdict]:
    """`answers_equal(predicted, gold)` for each pair, equal pairs compared once."""
    unique = list(dict.fromkeys(pairs))
    done: dict[Pair, Verdict] = {}
    reason = _pool_unavailable()
    if reason is None and unique:
        try:
            done = _compare_in_workers(unique)
        except _PoolFailed as failure:
            reason, done = str(failure), failure.done
    rest = [pair for pair in unique if pair not in done]
    if rest:
        logger.warning(
            "the grading pool could not run %d of %d comparisons (%s); graded in-process "
            "under the same CPU budget and counted as machinery failures",
            *(len(rest), len(unique), reason),
        )
        done.update((pair, _compare_in_process(pair)) for pair in rest)
    return [done[pair] for pair in pairs]


def _pool_unavailable() -> str | None:
    """Why no pool can start in this process, known before trying; None if it may."""
    if multiprocessing.current_process().daemon:
        return "a daemonic process cannot start worker processes"
    return None


def _compare_in_workers(pairs: list[Pair]) -> dict[Pair, Verdict]:
    """Each pair's verdict from the workers; raises _PoolFailed with what was done."""
    done: dict[Pair, Verdict] = {}
    try:
        pool = _get_pool()
        size = max(1, min(MAX_CHUNK, len(pairs) // (WORKERS * 4)))
        pairs = sorted(pairs, key=lambda pair: pair[1])  # a gold's pairs together: parsed once
        running = {_schedule(pool, pairs[i : i + size]) for i in range(0, len(pairs), size)}
        while running:
            finished, running = wait(running, timeout=STALL_S, return_when=FIRST_COMPLETED)
            if not finished:
                _abandon(pool)
                raise _PoolFailed(f"no comparison finished in {STALL_S:.0f} s", done)
            for future in finished:
                running |= _collect(pool, future, done)
    except _PoolFailed:
        raise
    except Exception as err:  # pebble and multiprocessing raise many kinds; all mean "broken"
        raise _PoolFailed(f"{type(err).__name__}: {err}", done) from err
    return done


def _schedule(pool: ProcessPool, chunk: list[Pair]) -> Future:
    future = pool.schedule(_compare_chunk, args=(chunk,))
    future.chunk = chunk  # type: ignore[attr-defined]
    return future


def _collect(pool: ProcessPool, future: Future, done: dict[Pair, Verdict]) -> set[Future]:
    """Record a finished chunk's verdicts; returns the tasks to run again, if its worker died
    (each pair alone, to learn which one killed it)."""
    chunk: list[Pair] = future.chunk  # type: ignore[attr-defined]
    try:
        results = future.result()
    except ProcessExpired as death:
        if len(chunk) > 1:
            return {_schedule(pool, [pair]) for pair in chunk}
        done[chunk[0]] = TIMED_OUT if death.exitcode == -signal.SIGXCPU else LOST
        if death.exitcode != -signal.SIGXCPU:
            logger.error("a grading worker died (exit code %s) twice on %r", death.exitcode, chunk)
        return set()
    done.update(
        (pair, TIMED_OUT if equal is None else Verdict(equal=equal))
        for pair, equal in zip(chunk, results, strict=True)
    )
    return set()


def _compare_chunk(pairs: list[Pair]) -> list[bool | None]:
    """In a worker: each pair's verdict, None past its CPU budget."""
    return [call_in_worker(answers_equal, *pair) for pair in pairs]


def _compare_in_process(pair: Pair) -> Verdict:
    """One comparison in the calling thread, under the same CPU budget."""
    importlib.import_module(PRELOAD[0])  # sympy loaded and warmed up outside the budget
    with _in_process_lock:
        equal = call_in_thread(answers_equal, *pair)
    return Verdict(equal=bool(equal), timed_out=equal is None, machinery_failure=True)


def _get_pool() -> ProcessPool:
    global _pool, _pool_pid
    with _lock:
        if _pool is None or _pool_pid != os.getpid() or not _pool.active:
            multiprocessing.set_forkserver_preload(PRELOAD)
            _pool = ProcessPool(
                max_workers=WORKERS, initializer=_prepare_worker, context=_WorkerContext()
            )
            _pool_pid = os.getpid()
        return _pool


def _abandon(pool: ProcessPool) -> None:
    """Stop a hung pool; the next batch starts a new one."""
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    pool.stop()


class _WorkerProcess(ForkServerProcess):
    """A forkserver process that starts without importing the caller's main module."""

    def start(self) -> None:
        # multiprocessing tells the child to re-run __main__ when it has a file or a module
        # name; a bare stand-in has neither. Held only while the child's start-up data is
        # written, a few milliseconds.
        with _launch_lock:
            main = sys.modules["__main__"]
            sys.modules["__main__"] = types.ModuleType("__main__")
            try:
                super().start()
            finally:
                sys.modules["__main__"] = main


class _WorkerContext(ForkServerContext):
    Process = _WorkerProcess


def _prepare_worker() -> None:
    """Import the warm-up in the worker (nothing to do after the forkserver preloaded it; a
    cold start when a forkserver started earlier by other code did not) and install the
    CPU budget's signal handler."""
    importlib.import_module(PRELOAD[0])
    prepare_worker()


def _reset_locks() -> None:
    """In a forked child: a lock another thread of the parent held would never be released."""
    global _lock, _launch_lock, _in_process_lock
    _lock, _launch_lock, _in_process_lock = threading.Lock(), threading.Lock(), threading.Lock()


def shutdown_pool() -> None:
    """Stop the workers (at exit, or to free their memory); the next call starts new ones."""
    global _pool
    with _lock:
        if _pool is not None and _pool_pid == os.getpid():
            _pool.stop()
            _pool.join(timeout=5)
        _pool = None


atexit.register(shutdown_pool)
os.register_at_fork(after_in_child=_reset_locks)
