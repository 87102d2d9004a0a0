"""eval.json layout, deltas, pass@k, the breakdown and the plot rows."""

from __future__ import annotations

import dataclasses
import doctest
import itertools
import math

import pytest

import mathtune.eval.metrics
from conftest import prediction
from mathtune.eval.metrics import (
    accuracy_by_group,
    accuracy_rows,
    build_breakdown,
    build_metrics,
    compared_pairs,
    family_accuracy,
    mean_pass_at_k,
    pass_at_k,
    summarize,
)
from mathtune.eval.sets import EvalSet, Problem

SEEN = EvalSet("seen", [Problem("s1", "", "", "", "sum"), Problem("s2", "", "", "", "pizza")])
HELDOUT = EvalSet("heldout", [Problem("h1", "", "", "", "rectangle")])
SETS = [SEEN, HELDOUT]


def rows_of(model: str, seen: list[bool], heldout: list[bool], **changes) -> list:
    families = ["sum", "pizza"]
    return [
        prediction(
            model=model, split="seen", uuid=f"s{i}", family=families[i], correct=c, **changes
        )
        for i, c in enumerate(seen)
    ] + [
        prediction(model=model, split="heldout", uuid=f"h{i}", family="rectangle", correct=c)
        for i, c in enumerate(heldout)
    ]


PREDICTIONS = (
    rows_of("base", [False, False], [False])
    + rows_of("sft", [True, True], [False], format_ok=True)
    + rows_of("grpo", [True, False], [True])
)


def test_grader_timeouts_and_machinery_failures_are_counted_apart_per_model():
    rows = rows_of("base", [False, False], [False]) + rows_of("sft", [True, True], [False])
    rows[0] = dataclasses.replace(rows[0], grader_timed_out=True)
    rows[2] = dataclasses.replace(rows[2], grader_timed_out=True)  # a held-out row
    rows[4] = dataclasses.replace(rows[4], grader_machinery_failure=True)
    metrics = build_metrics(rows, SETS)
    assert (metrics["eval/base/grader_timeouts"], metrics["eval/sft/grader_timeouts"]) == (2, 0)
    assert metrics["eval/base/grader_machinery_failures"] == 0
    assert metrics["eval/sft/grader_machinery_failures"] == 1


def test_summary_rates_and_means():
    rows = [
        prediction(correct=True, format_ok=True, reasoning_quality=1.0),
        prediction(correct=False, format_ok=True, reasoning_quality=0.5),
        prediction(truncated=True, generated_tokens=30),
        prediction(correct=True),
    ]
    summary = summarize(rows)
    assert (summary.rows, summary.accuracy, summary.format_rate) == (4, 0.5, 0.5)
    assert summary.reasoning_quality == 0.375
    assert summary.truncation_rate == 0.25
    assert summary.mean_generated_tokens == 15.0


def test_metrics_hold_every_model_per_split_and_the_deltas():
    metrics = build_metrics(PREDICTIONS, SETS)
    assert metrics["eval/samples/seen"] == 2 and metrics["eval/samples/heldout"] == 1
    assert metrics["eval/base/accuracy"] == 0.0
    assert metrics["eval/sft/accuracy"] == pytest.approx(2 / 3, abs=1e-6)
    assert metrics["eval/sft/seen/accuracy"] == 1.0
    assert metrics["eval/sft/heldout/accuracy"] == 0.0
    assert metrics["eval/grpo/heldout/accuracy"] == 1.0
    assert metrics["eval/sft/format_rate"] == pytest.approx(2 / 3, abs=1e-6)
    assert metrics["eval/delta/sft-base/seen/accuracy"] == 1.0
    assert metrics["eval/delta/grpo-base/heldout/accuracy"] == 1.0
    assert metrics["eval/delta/grpo-sft/seen/accuracy"] == -0.5
    assert metrics["eval/delta/grpo-sft/heldout/accuracy"] == 1.0
    assert "eval/delta/sft-base/format_rate" not in metrics, "deltas of accuracies only"
    # The experiments table stays narrow: no per-family keys among the metrics.
    assert not [key for key in metrics if "sum" in key or "rectangle" in key]
    # 11 per model: 3 rates, 3 accuracies (overall, 2 sets) and their errors, and the two
    # grader counts; 3 pairs of models x 3 accuracies, each delta with its error.
    assert len(metrics) == 2 + 3 * 11 + 3 * 3 * 2
    assert all(isinstance(value, int | float) for value in metrics.values())


def test_benchmark_gets_greedy_accuracy_and_pass_at_1():
    bench = EvalSet("math500", [Problem("m1", "", "", "", "level 1")], benchmark=True)
    rows = [prediction(split="math500", uuid="m1", correct=True)] + [
        prediction(split="math500", uuid="m1", sample=k, correct=k == 0) for k in range(4)
    ]
    metrics = build_metrics(rows, [bench])
    assert metrics["eval/base/math500/accuracy"] == 1.0
    assert metrics["eval/base/math500/pass@1"] == 0.25
    assert metrics["eval/base/math500/pass@1_stderr"] == 0.0, "one problem: no spread"
    assert "eval/base/accuracy" in metrics, "overall: no own split, so 0 over no rows"


def test_every_accuracy_and_delta_has_its_standard_error():
    metrics = build_metrics(PREDICTIONS, SETS)
    assert metrics["eval/grpo/seen/accuracy_stderr"] == 0.5  # right on 1 of 2: sqrt(0.5 / 2)
    assert metrics["eval/sft/accuracy_stderr"] == pytest.approx(1 / 3, abs=1e-6)
    assert metrics["eval/base/accuracy_stderr"] == 0.0  # all wrong: no spread
    assert metrics["eval/sft/heldout/accuracy_stderr"] == 0.0  # one problem
    # grpo minus sft, problem by problem: seen 0 and -1, held-out +1.
    assert metrics["eval/delta/grpo-sft/seen/accuracy_stderr"] == 0.5
    assert metrics["eval/delta/grpo-sft/accuracy_stderr"] == pytest.approx(3**-0.5, abs=1e-6)


def test_a_delta_error_pairs_the_two_models_answers_problem_by_problem():
    problems = [Problem(f"s{i}", "", "", "", "sum") for i in range(4)]
    rows = [
        prediction(model=model, split="seen", uuid=f"s{i}", correct=bool(c))
        for model, answers in (("base", [1, 1, 0, 0]), ("sft", [1, 1, 0, 1]))
        for i, c in enumerate(answers)
    ]
    metrics = build_metrics(rows, [EvalSet("seen", problems)])
    # Only s3 differs: the differences 0, 0, 0, 1 have a standard error of 0.25, below
    # the 0.38 that treating the two models' errors as independent would give.
    assert metrics["eval/delta/sft-base/seen/accuracy_stderr"] == 0.25
    unpaired = math.hypot(
        metrics["eval/sft/seen/accuracy_stderr"], metrics["eval/base/seen/accuracy_stderr"]
    )
    assert unpaired == pytest.approx(0.3819, abs=1e-4)


@pytest.mark.parametrize(
    "models, pairs",
    [
        (["base"], []),
        (["base", "sft"], [("sft", "base")]),
        (["base", "sft", "grpo"], [("sft", "base"), ("grpo", "base"), ("grpo", "sft")]),
    ],
)
def test_compared_pairs(models, pairs):
    assert compared_pairs(models) == pairs


@pytest.mark.parametrize("n, k", [(4, 1), (5, 2), (10, 3)])
def test_pass_at_k_is_the_chance_that_k_draws_without_replacement_hit(n, k):
    for c in range(n + 1):
        draws = list(itertools.combinations([True] * c + [False] * (n - c), k))
        assert pass_at_k(n, c, k) == pytest.approx(sum(map(any, draws)) / math.comb(n, k))


def test_mean_pass_at_1_averages_over_problems():
    samples = [prediction(uuid="a", sample=k, correct=k < 3) for k in range(4)]
    samples += [prediction(uuid="b", sample=k, correct=False) for k in range(4)]
    assert mean_pass_at_k(samples) == 0.375
    assert mean_pass_at_k([]) is None


def test_pass_at_1_error_is_over_problems_not_samples():
    bench = EvalSet("math500", [Problem("a", "", "", "", ""), Problem("b", "", "", "", "")])
    greedy = [prediction(split="math500", uuid=uuid) for uuid in "ab"]
    samples = [
        prediction(split="math500", uuid=uuid, sample=k, correct=k < hits)
        for uuid, hits in (("a", 1), ("b", 3))
        for k in range(4)
    ]
    metrics = build_metrics(greedy + samples, [bench])
    # Problems at 0.25 and 0.75: sqrt(0.125 / 2); eight samples as if independent: 0.189.
    assert metrics["eval/base/math500/pass@1"] == 0.5
    assert metrics["eval/base/math500/pass@1_stderr"] == 0.25


def test_breakdown_has_accuracy_per_family_and_problem_type():
    breakdown = build_breakdown(PREDICTIONS, [EvalSet("seen", SEEN.problems, {"family": "family"})])
    seen = breakdown["grpo"]["seen"]
    assert seen["rows"] == 2 and seen["accuracy"] == 0.5
    assert seen["by_family"] == {
        "pizza": {"rows": 1, "accuracy": 0.0},
        "sum": {"rows": 1, "accuracy": 1.0},
    }
    assert "reasoning_quality" in seen


def test_plot_rows_and_figure_data_cover_every_model_and_set():
    metrics = build_metrics(PREDICTIONS, SETS)
    models = ["base", "sft", "grpo"]
    rows = accuracy_rows(metrics, models, SETS)
    assert [row["model"] for row in rows] == models
    assert list(rows[1]) == [
        "model",
        "format_rate",
        "overall_accuracy",
        "seen_accuracy",
        "heldout_accuracy",
    ]
    assert accuracy_by_group(metrics, models, SETS)["grpo"] == {
        "overall": pytest.approx(2 / 3, abs=1e-6),
        "seen": 0.5,
        "heldout": 1.0,
    }
    sets = [EvalSet(s.name, s.problems, {"family": "family"}) for s in SETS]
    families = family_accuracy(build_breakdown(PREDICTIONS, sets), sets)
    assert families["sft"] == {"pizza": 1.0, "sum": 1.0, "rectangle (heldout)": 0.0}


def test_doctests_pass():
    assert doctest.testmod(mathtune.eval.metrics).failed == 0
