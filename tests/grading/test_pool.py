"""Tests for mathtune.grading.pool: the deadline kills a stuck worker and the pool goes on."""

from __future__ import annotations

import time

from mathtune.grading.pool import DEADLINE_S, compare_in_pool, shutdown_pool

# sympy expands this for seconds (4.6 s on an idle 2-core machine): far past the deadline.
STUCK = ("(a+b+c)^{40}", "a^{40}")


def test_a_comparison_past_the_deadline_is_killed_and_counted():
    compare_in_pool([("1", "1")])  # the pool's start-up is not part of any call's bound
    start = time.perf_counter()
    assert compare_in_pool([STUCK]) == [None]
    assert time.perf_counter() - start < DEADLINE_S + 0.5


def test_the_pool_answers_after_a_worker_was_killed():
    results = compare_in_pool([STUCK, ("x+1", "1+x"), STUCK, ("(x+1)^2", "x^2+2x+1")])
    assert results == [None, True, None, True]


def test_a_batch_is_answered_in_order():
    pairs = [(f"{i}x", f"x*{i}") for i in range(20)] + [("x", "y")]
    assert compare_in_pool(pairs) == [True] * 20 + [False]


def test_a_pool_shut_down_starts_again_on_the_next_call():
    shutdown_pool()
    assert compare_in_pool([("x+1", "1+x")]) == [True]
