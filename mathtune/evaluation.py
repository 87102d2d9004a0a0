"""Scoring generations with the project's reward functions, and the evaluate metrics.

Each (model, problem) pair becomes one `Prediction`, graded once by the checker that RL
training's rewards use (`mathtune.grading`). One row of data/eval/predictions.parquet:

    {"model": "tuned", "uuid": "1f0c8b3e-...", "problem": "Tom has 23 apples ...",
     "problem_type": "Algebra", "gold": "38", "generation": "Add: $23 + 15 = 38$. ...",
     "extracted_answer": "38", "extraction_strategy": "boxed", "correct": True,
     "format_ok": True, "grader_timed_out": False, "reasoning_quality": 0.75,
     "generated_tokens": 41, "truncated": False}

Per model: accuracy, format_rate (answer in `\\boxed{}` outside `<think>`), reasoning_quality
(steps 50% + equations 50%), mean_reward (equal-weight mean of those three rewards),
truncation_rate, mean_generated_tokens, grader_timeouts (answers scored incorrect because
their comparison ran past the grader's deadline) and accuracy per problem type.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from mathtune.generation import MODEL_NAMES, Generation
from mathtune.grading.grader import grade_completions
from mathtune.grading.reasoning import score_reasoning
from mathtune.outputs import atomic_path
from mathtune.schema import read_prepared_columns

VALIDATION_COLUMNS = ("uuid", "problem", "answer", "problem_type")
PLOT_COLUMNS = ("model", "accuracy", "format_rate", "reasoning_quality")
DIGITS = 6  # metrics are rounded so that eval.json reads cleanly and diffs stay small
# Columns of data/eval/predictions.parquet, in the order of the Prediction fields.
PREDICTIONS_SCHEMA = pa.schema(
    [
        ("model", pa.string()),
        ("uuid", pa.string()),
        ("problem", pa.string()),
        ("problem_type", pa.string()),
        ("gold", pa.string()),
        ("generation", pa.string()),
        ("extracted_answer", pa.string()),
        ("extraction_strategy", pa.string()),
        ("correct", pa.bool_()),
        ("format_ok", pa.bool_()),
        ("grader_timed_out", pa.bool_()),
        ("reasoning_quality", pa.float64()),
        ("generated_tokens", pa.int64()),
        ("truncated", pa.bool_()),
    ]
)


@dataclass(frozen=True)
class ValidationSet:
    """The validation rows evaluated, as parallel columns in file order."""

    uuid: list[str]
    problem: list[str]
    answer: list[str]
    problem_type: list[str]


@dataclass(frozen=True)
class Prediction:
    """One model's answer to one problem, scored."""

    model: str
    uuid: str
    problem: str
    problem_type: str
    gold: str
    generation: str
    extracted_answer: str | None
    extraction_strategy: str | None
    correct: bool
    format_ok: bool
    grader_timed_out: bool
    reasoning_quality: float
    generated_tokens: int
    truncated: bool


@dataclass(frozen=True)
class ModelMetrics:
    """Aggregate scores of one model over the validation set (rates in [0, 1])."""

    accuracy: float
    format_rate: float
    reasoning_quality: float
    mean_reward: float
    truncation_rate: float
    mean_generated_tokens: float
    grader_timeouts: int
    accuracy_by_type: dict[str, float]  # slugified problem type -> accuracy


@dataclass(frozen=True)
class EvaluationResult:
    """Everything the evaluate stage writes: predictions, per-model metrics, eval.json."""

    predictions: list[Prediction]  # all base rows, then all tuned rows
    per_model: dict[str, ModelMetrics]
    metrics: dict[str, float]


def read_validation(path: Path, max_samples: int | None) -> ValidationSet:
    """The first `max_samples` rows of the prepared validation split (all when None)."""
    columns = read_prepared_columns(path, VALIDATION_COLUMNS)
    return ValidationSet(**{name: values[:max_samples] for name, values in columns.items()})


def score_generations(
    model: str, validation: ValidationSet, generations: list[Generation]
) -> list[Prediction]:
    """Score one model's generations: one grade each, as RL training's rewards read it."""
    texts = [generation.text for generation in generations]
    grades = grade_completions(texts, validation.answer)
    return [
        Prediction(
            model=model,
            uuid=validation.uuid[index],
            problem=validation.problem[index],
            problem_type=validation.problem_type[index],
            gold=validation.answer[index],
            generation=texts[index],
            extracted_answer=grades[index].extracted,
            extraction_strategy=grades[index].strategy,
            correct=grades[index].correct,
            format_ok=grades[index].boxed,
            grader_timed_out=grades[index].timed_out,
            reasoning_quality=score_reasoning(texts[index]),
            generated_tokens=generations[index].generated_tokens,
            truncated=generations[index].truncated,
        )
        for index in range(len(texts))
    ]


def evaluate_generations(
    validation: ValidationSet, generations: dict[str, list[Generation]]
) -> EvaluationResult:
    """Score the base and tuned generations and compute the metrics of both."""
    scored = {name: score_generations(name, validation, generations[name]) for name in MODEL_NAMES}
    per_model = {name: summarize_predictions(rows) for name, rows in scored.items()}
    metrics = build_metrics(per_model["base"], per_model["tuned"], len(validation.problem))
    return EvaluationResult([row for rows in scored.values() for row in rows], per_model, metrics)


def summarize_predictions(predictions: list[Prediction]) -> ModelMetrics:
    """Aggregate one model's predictions into its metrics."""
    accuracy = _mean([p.correct for p in predictions])
    format_rate = _mean([p.format_ok for p in predictions])
    reasoning_quality = _mean([p.reasoning_quality for p in predictions])
    by_type: dict[str, list[bool]] = {}
    for prediction in predictions:
        by_type.setdefault(slugify(prediction.problem_type), []).append(prediction.correct)
    return ModelMetrics(
        accuracy=accuracy,
        format_rate=format_rate,
        reasoning_quality=reasoning_quality,
        mean_reward=_mean(
            [(p.correct + p.format_ok + p.reasoning_quality) / 3 for p in predictions]
        ),
        truncation_rate=_mean([p.truncated for p in predictions]),
        mean_generated_tokens=_mean([p.generated_tokens for p in predictions]),
        grader_timeouts=sum(p.grader_timed_out for p in predictions),
        accuracy_by_type={kind: _mean(values) for kind, values in sorted(by_type.items())},
    )


def build_metrics(base: ModelMetrics, tuned: ModelMetrics, samples: int) -> dict[str, float]:
    """Flat, namespaced metrics for eval.json: eval/{base,tuned,delta}/<metric>, per type too."""
    metrics: dict[str, float] = {"eval/samples": samples}
    for name, result in (("base", base), ("tuned", tuned)):
        for key, value in _scalars(result).items():
            metrics[f"eval/{name}/{key}"] = value
        for kind, value in result.accuracy_by_type.items():
            metrics[f"eval/{name}/accuracy/{kind}"] = value
    for key, value in _scalars(tuned).items():
        metrics[f"eval/delta/{key}"] = round(value - _scalars(base)[key], DIGITS)
    return metrics


def slugify(problem_type: str | None) -> str:
    """Metric-key form of a problem type.

    >>> slugify("Number Theory")
    'number_theory'
    >>> slugify("Logic and Puzzles")
    'logic_and_puzzles'
    >>> slugify(None)
    'unknown'
    """
    slug = re.sub(r"[^a-z0-9]+", "_", (problem_type or "").lower()).strip("_")
    return slug or "unknown"


def predictions_table(predictions: list[Prediction]) -> pa.Table:
    """Arrow table of predictions, one row per (model, problem), columns as in Prediction."""
    columns = {name: [getattr(p, name) for p in predictions] for name in PREDICTIONS_SCHEMA.names}
    return pa.table(columns, schema=PREDICTIONS_SCHEMA)


def write_accuracy_plot(path: str | Path, results: dict[str, ModelMetrics]) -> None:
    """CSV for `dvc plots`: one row per model with accuracy, format_rate, reasoning_quality."""
    with atomic_path(path) as temporary, temporary.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(PLOT_COLUMNS)
        for name, result in results.items():
            writer.writerow([name, result.accuracy, result.format_rate, result.reasoning_quality])


def _scalars(result: ModelMetrics) -> dict[str, float]:
    return {
        key: value
        for key, value in dataclasses.asdict(result).items()
        if not isinstance(value, dict)
    }


def _mean(values: list[float] | list[bool] | list[int]) -> float:
    return round(sum(values) / len(values), DIGITS) if values else 0.0
