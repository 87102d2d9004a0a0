"""The evaluate stage's numbers: the report, its headline, the breakdown, the plot rows.

reports/eval.json holds every number, flat and namespaced:

    eval/samples/<set>                     problems scored per set (seen, heldout, probe, ...)
    eval/<model>/accuracy                  greedy accuracy over the project's own sets
                                           (seen + held-out families + probe problems)
    eval/<model>/format_rate               answer in `\\boxed{}` outside `<think>`
    eval/<model>/truncation_rate           cut at max_new_tokens
    eval/<model>/mean_generated_tokens
    eval/<model>/grader_timeouts           answers scored incorrect: their comparison ran past
                                           the grader's CPU budget (all sets and samples)
    eval/<model>/grader_machinery_failures comparisons the grader's worker pool could not run
                                           (graded in-process instead; counted apart)
    eval/<model>/<set>/accuracy            greedy accuracy per set
    eval/<model>/<benchmark>/pass@1        unbiased estimate from the sampled completions
    eval/delta/<a>-<b>/...                 every accuracy and pass@1 key, model a minus model b
    ..._stderr                             next to every accuracy, pass@1 and delta: its
                                           standard error over the problems

metrics/eval.json, the DVC metric, keeps the headline (`headline_keys`): per model its
accuracy on seen, held-out and probe problems, and for the tuned models the overall accuracy
with its standard error, so that `dvc exp show` leads with what a person decides by.

A standard error turns a figure into a judgement: on 48 problems an accuracy of 20% is
20% +- 5.8 points, so a change smaller than about twice that is noise. Both models of a
delta answer the same problems, so its error comes from the per-problem differences
(paired): smaller than the two models' errors combined when they get the same problems right.

Per family, problem type, MATH-500 level and subject, and reasoning quality go to the
breakdown JSON.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass

from mathtune.core.statistics import mean, standard_error
from mathtune.eval.scoring import Prediction
from mathtune.eval.sets import EvalSet

DIGITS = 6  # metrics are rounded so that eval.json reads cleanly and diffs stay small
PASS_AT_1 = "pass@1"
STDERR = "_stderr"
# The sets of the headline: families trained on, families held out, problems written elsewhere.
HEADLINE_SETS = ("seen", "heldout", "probe")


@dataclass(frozen=True)
class Summary:
    """Aggregate scores of greedy predictions (rates in [0, 1])."""

    rows: int
    accuracy: float
    format_rate: float
    reasoning_quality: float
    truncation_rate: float
    mean_generated_tokens: float


def summarize(predictions: list[Prediction]) -> Summary:
    """Aggregate predictions into their rates and means."""
    return Summary(
        rows=len(predictions),
        accuracy=_mean([p.correct for p in predictions]),
        format_rate=_mean([p.format_ok for p in predictions]),
        reasoning_quality=_mean([p.reasoning_quality for p in predictions]),
        truncation_rate=_mean([p.truncated for p in predictions]),
        mean_generated_tokens=_mean([p.generated_tokens for p in predictions]),
    )


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of one problem with `c` correct among `n` samples (Chen et al., 2021).

    1 - C(n - c, k) / C(n, k), computed as a product to stay exact for large n.

    >>> pass_at_k(4, 1, 1)
    0.25
    >>> round(pass_at_k(4, 1, 2), 6)
    0.5
    >>> pass_at_k(4, 0, 2), pass_at_k(4, 3, 2)
    (0.0, 1.0)
    """
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def mean_pass_at_k(samples: list[Prediction], k: int = 1) -> float | None:
    """pass@k over problems, from sampled predictions (None when there are none)."""
    scores = pass_at_k_by_problem(samples, k)
    return _mean(scores.values()) if scores else None


def pass_at_k_by_problem(samples: list[Prediction], k: int = 1) -> dict[str, float]:
    """Each problem's pass@k (by uuid) from its sampled predictions."""
    by_problem: dict[str, list[bool]] = {}
    for prediction in samples:
        by_problem.setdefault(prediction.uuid, []).append(prediction.correct)
    return {uuid: pass_at_k(len(hits), sum(hits), k) for uuid, hits in by_problem.items()}


def build_metrics(predictions: list[Prediction], eval_sets: list[EvalSet]) -> dict[str, float]:
    """The flat, namespaced eval.json (layout in the module docstring)."""
    metrics: dict[str, float] = {f"eval/samples/{s.name}": len(s.problems) for s in eval_sets}
    models = list(dict.fromkeys(p.model for p in predictions))
    own_splits = {s.name for s in eval_sets if not s.benchmark}
    scores: dict[str, dict[str, dict[tuple[str, str], float]]] = {}
    for model in models:
        rows = [p for p in predictions if p.model == model]
        own = summarize([p for p in rows if p.split in own_splits and p.sample is None])
        for key in ("format_rate", "truncation_rate", "mean_generated_tokens"):
            metrics[f"eval/{model}/{key}"] = getattr(own, key)
        metrics[f"eval/{model}/grader_timeouts"] = sum(p.grader_timed_out for p in rows)
        metrics[f"eval/{model}/grader_machinery_failures"] = sum(
            p.grader_machinery_failure for p in rows
        )
        scores[model] = problem_scores(rows, eval_sets, own_splits)
        for key, by_problem in scores[model].items():
            metrics[f"eval/{model}/{key}"] = _mean(by_problem.values())
            metrics[f"eval/{model}/{key}{STDERR}"] = _standard_error(by_problem.values())
    for first, second in compared_pairs(models):
        for key, by_problem in scores[first].items():
            other = scores[second][key]
            delta = f"eval/delta/{first}-{second}/{key}"
            metrics[delta] = round(
                metrics[f"eval/{first}/{key}"] - metrics[f"eval/{second}/{key}"], DIGITS
            )
            paired = [score - other[problem] for problem, score in by_problem.items()]
            metrics[f"{delta}{STDERR}"] = _standard_error(paired)
    return metrics


def headline_keys(models: list[str]) -> list[str]:
    """The keys of metrics/eval.json, in the order `dvc exp show` prints them: for each model
    its accuracy on seen, held-out and probe problems; for the tuned ones (every model but the
    first, the base) also the overall accuracy and its standard error.

    >>> headline_keys(["base", "sft"])[:3]
    ['eval/base/seen/accuracy', 'eval/base/heldout/accuracy', 'eval/base/probe/accuracy']
    >>> headline_keys(["base", "sft"])[3:]  # doctest: +NORMALIZE_WHITESPACE
    ['eval/sft/seen/accuracy', 'eval/sft/heldout/accuracy', 'eval/sft/probe/accuracy',
     'eval/sft/accuracy', 'eval/sft/accuracy_stderr']
    """
    keys = []
    for number, model in enumerate(models):
        keys += [f"eval/{model}/{split}/accuracy" for split in HEADLINE_SETS]
        if number:
            keys += [f"eval/{model}/accuracy", f"eval/{model}/accuracy{STDERR}"]
    return keys


def problem_scores(
    rows: list[Prediction], eval_sets: list[EvalSet], own_splits: set[str]
) -> dict[str, dict[tuple[str, str], float]]:
    """One model's score of each problem, by (set, uuid), for every averaged metric:
    `accuracy` (the project's own sets together) and `<set>/accuracy`, greedy correctness as
    1 or 0, and `<set>/pass@1` from the sampled completions where there are any."""
    greedy = _greedy(rows)
    scores = {
        "accuracy": {(p.split, p.uuid): float(p.correct) for p in greedy if p.split in own_splits}
    }
    for eval_set in eval_sets:
        name = eval_set.name
        scores[f"{name}/accuracy"] = {
            (name, p.uuid): float(p.correct) for p in greedy if p.split == name
        }
        sampled = [p for p in rows if p.split == name and p.sample is not None]
        if sampled:
            by_uuid = pass_at_k_by_problem(sampled)
            scores[f"{name}/{PASS_AT_1}"] = {(name, uuid): value for uuid, value in by_uuid.items()}
    return scores


def compared_pairs(models: list[str]) -> list[tuple[str, str]]:
    """Each adapter model against the base, and the last adapter against the one before.

    >>> compared_pairs(["base", "sft", "grpo"])
    [('sft', 'base'), ('grpo', 'base'), ('grpo', 'sft')]
    """
    base, *adapters = models
    pairs = [(adapter, base) for adapter in adapters]
    if len(adapters) >= 2:
        pairs.append((adapters[-1], adapters[-2]))
    return pairs


def build_breakdown(predictions: list[Prediction], eval_sets: list[EvalSet]) -> dict:
    """Per model and set: every summary figure, pass@1, and accuracy per group of problems."""
    breakdown: dict[str, dict] = {}
    for model in dict.fromkeys(p.model for p in predictions):
        breakdown[model] = {}
        for eval_set in eval_sets:
            rows = [p for p in predictions if p.model == model and p.split == eval_set.name]
            entry = _group_entry(rows) | dataclasses.asdict(summarize(_greedy(rows)))
            for field, label in eval_set.groups.items():
                groups: dict[str, list[Prediction]] = {}
                for prediction in rows:
                    groups.setdefault(getattr(prediction, field), []).append(prediction)
                entry[f"by_{label}"] = {name: _group_entry(groups[name]) for name in sorted(groups)}
            breakdown[model][eval_set.name] = entry
    return breakdown


def _group_entry(rows: list[Prediction]) -> dict[str, float]:
    greedy = _greedy(rows)
    entry = {"rows": len(greedy), "accuracy": summarize(greedy).accuracy}
    sampled = mean_pass_at_k([p for p in rows if p.sample is not None])
    if sampled is not None:
        entry[PASS_AT_1] = sampled
    return entry


def _greedy(rows: list[Prediction]) -> list[Prediction]:
    return [p for p in rows if p.sample is None]


def accuracy_rows(
    metrics: dict[str, float], models: list[str], eval_sets: list[EvalSet]
) -> list[dict[str, str | float]]:
    """Rows of the accuracy plot CSV: one per model, overall and per-set greedy accuracy."""
    return [
        {"model": model, "format_rate": metrics[f"eval/{model}/format_rate"]}
        | {f"{group}_accuracy": value for group, value in by_group.items()}
        for model, by_group in accuracy_by_group(metrics, models, eval_sets).items()
    ]


def accuracy_by_group(
    metrics: dict[str, float], models: list[str], eval_sets: list[EvalSet], suffix: str = ""
) -> dict[str, dict[str, float]]:
    """accuracy[model][group]: "overall" (seen + held-out), then each set's greedy accuracy;
    with `suffix=STDERR`, their standard errors."""
    return {
        model: {"overall": metrics[f"eval/{model}/accuracy{suffix}"]}
        | {s.name: metrics[f"eval/{model}/{s.name}/accuracy{suffix}"] for s in eval_sets}
        for model in models
    }


def family_accuracy(breakdown: dict, eval_sets: list[EvalSet]) -> dict[str, dict[str, float]]:
    """accuracy[model][family] over the project's own splits; held-out families marked."""
    return {
        model: {
            (family if s.name == "seen" else f"{family} ({s.name})"): entry["accuracy"]
            for s in eval_sets
            if s.groups.get("family") == "family"  # curriculum families, not probe categories
            for family, entry in sets[s.name]["by_family"].items()
        }
        for model, sets in breakdown.items()
    }


def _mean(values: Iterable[float]) -> float:
    return round(mean(values), DIGITS)


def _standard_error(values: Iterable[float]) -> float:
    return round(standard_error(values), DIGITS)
