"""A hard time bound on math-verify: a persistent pool of worker processes.

math-verify's own time limits use SIGALRM, which works only in the main thread (TRL calls
rewards from others) and its parser can run for minutes on adversarial LaTeX. So every
comparison that is not a plain number runs in a `pebble.ProcessPool` worker with a deadline
of DEADLINE_S from when the worker picks it up; a worker past it is killed and replaced,
and the comparison counts as "not equal" and as timed out.

Workers start with `forkserver`: forking a process that holds torch's thread pools can
hang the child. The forkserver imports `mathtune.grading.worker` once (PRELOAD), which
imports math-verify and warms it up, so a worker, and one that replaces a killed worker,
starts ready at once instead of after the seconds sympy takes to load. multiprocessing would
also run the caller's main script again in every worker (a stage script imports torch; a
script without an `if __name__ == "__main__"` guard would start pools recursively), so
workers are launched with `__main__` hidden. The pool is created on first use under a lock
(safe from any thread, created again in a forked child) and shut down at exit.
"""

from __future__ import annotations

import atexit
import importlib
import logging
import multiprocessing
import os
import sys
import threading
import types
from collections.abc import Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from multiprocessing.context import ForkServerContext, ForkServerProcess

from pebble import ProcessPool

from mathtune.grading.compare import answers_equal

logger = logging.getLogger(__name__)

# Typical comparisons take 1-100 ms once a worker is warm; the slowest legitimate ones seen
# (an equation against its rearranged form) take 0.2 s on an idle 2-core machine and 0.6 s
# at a load of 8. 0.8 s leaves room for that, plus the pool's own latency within 1 s.
DEADLINE_S = 0.8
# One per core: more would only share the cores and push legitimate comparisons past the
# deadline. Two at least, so that one answers while a killed one is replaced. Each holds
# sympy, about 100 MB.
WORKERS = max(2, min(8, os.cpu_count() or 1))
PRELOAD = ["mathtune.grading.worker"]  # run by the workers: a dependency of their callers

_lock = threading.Lock()
_launch_lock = threading.Lock()
_pool: ProcessPool | None = None
_pool_pid: int | None = None


def compare_in_pool(pairs: Sequence[tuple[str, str]]) -> list[bool | None]:
    """`answers_equal(predicted, gold)` for each pair, all submitted at once; None for a
    pair that ran past DEADLINE_S or whose worker died."""
    pool = _get_pool()
    futures = [pool.schedule(answers_equal, args=pair, timeout=DEADLINE_S) for pair in pairs]
    results: list[bool | None] = []
    for future in futures:
        try:
            results.append(bool(future.result()))
        except FutureTimeout:
            results.append(None)
        except Exception as err:  # a worker that crashed on untrusted input counts as a time-out
            logger.warning("answer comparison failed in its worker (%r); scored incorrect", err)
            results.append(None)
    return results


def _get_pool() -> ProcessPool:
    global _pool, _pool_pid
    with _lock:
        if _pool is None or _pool_pid != os.getpid() or not _pool.active:
            multiprocessing.set_forkserver_preload(PRELOAD)
            _pool = ProcessPool(max_workers=WORKERS, initializer=_prepare_worker, context=_CONTEXT)
            _pool_pid = os.getpid()
        return _pool


class _WorkerProcess(ForkServerProcess):
    """A forkserver process that starts without importing the caller's main module."""

    def start(self) -> None:
        # multiprocessing tells the child to re-run __main__ when it has a file or a
        # module name; a bare stand-in has neither. Held only while the child's start-up
        # data is written, a few milliseconds.
        with _launch_lock:
            main = sys.modules["__main__"]
            sys.modules["__main__"] = types.ModuleType("__main__")
            try:
                super().start()
            finally:
                sys.modules["__main__"] = main


class _WorkerContext(ForkServerContext):
    Process = _WorkerProcess


_CONTEXT = _WorkerContext()


def _prepare_worker() -> None:
    """Import the warm-up in the worker: nothing to do after the forkserver preloaded it,
    and a cold start when a forkserver started earlier by other code did not."""
    importlib.import_module(PRELOAD[0])


def shutdown_pool() -> None:
    """Stop the workers (at exit, or to free their memory); the next call starts new ones."""
    global _pool
    with _lock:
        if _pool is not None and _pool_pid == os.getpid():
            _pool.stop()
            _pool.join(timeout=5)
        _pool = None


atexit.register(shutdown_pool)
