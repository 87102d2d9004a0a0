"""Scoring with the project's grader, metrics, predictions table and the plot file."""

from __future__ import annotations

import dataclasses
import doctest

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mathtune.evaluation
from mathtune.evaluation import (
    PREDICTIONS_SCHEMA,
    Prediction,
    ValidationSet,
    build_metrics,
    evaluate_generations,
    predictions_table,
    read_validation,
    score_generations,
    slugify,
    summarize_predictions,
    write_accuracy_plot,
)
from mathtune.generation import Generation
from mathtune.grading.reasoning import score_reasoning
from mathtune.schema import SplitError

VALIDATION = ValidationSet(
    uuid=["u1", "u2", "u3", "u4"],
    problem=["2 + 2?", "3 * 3?", "Half of 1?", "Is 7 prime?"],
    answer=["4", "9", "\\frac{1}{2}", "yes"],
    problem_type=["Algebra", "Algebra", "Number Theory", "Logic and Puzzles"],
)
WORKED = "Step 1: 2 + 2 = 4.\nStep 2: check 4 - 2 = 2.\nSo the answer is $\\boxed{4}$."


def prediction(**changes) -> Prediction:
    defaults = dict(
        model="base",
        uuid="u",
        problem="p",
        problem_type="Algebra",
        gold="1",
        generation="g",
        extracted_answer=None,
        extraction_strategy=None,
        correct=False,
        format_ok=False,
        grader_timed_out=False,
        reasoning_quality=0.0,
        generated_tokens=10,
        truncated=False,
    )
    return Prediction(**(defaults | changes))


def write_validation(path, rows: int, columns=("uuid", "problem", "answer", "problem_type")):
    table = pa.table({column: [f"{column}-{index}" for index in range(rows)] for column in columns})
    pq.write_table(table, path)
    return path


def test_score_generations_reads_one_grade_per_generation():
    texts = [
        WORKED,  # right, boxed, worked steps
        "The answer is 9.",  # right but not boxed
        "<think>it is \\boxed{0.5}</think> I am not sure.",  # boxed only inside <think>
        "So \\boxed{no}.",  # boxed but wrong
    ]
    generations = [Generation(text, 20, truncated=False) for text in texts]
    rows = score_generations("tuned", VALIDATION, generations)
    assert [row.correct for row in rows] == [True, True, False, False]
    assert [row.format_ok for row in rows] == [True, False, False, True]
    assert [row.extracted_answer for row in rows] == ["4", "9", "I am not sure", "no"]
    assert [row.extraction_strategy for row in rows] == [
        "boxed",
        "answer_phrase",
        "last_line",  # the box inside <think> is never read as the answer
        "boxed",
    ]
    assert [row.reasoning_quality for row in rows] == [score_reasoning(text) for text in texts]
    assert not any(row.grader_timed_out for row in rows)
    assert rows[0].reasoning_quality == 1.0
    assert {row.model for row in rows} == {"tuned"}
    assert [row.gold for row in rows] == VALIDATION.answer


def test_summary_rates_and_accuracy_per_problem_type():
    rows = [
        prediction(correct=True, format_ok=True, reasoning_quality=1.0, problem_type="Algebra"),
        prediction(correct=False, format_ok=True, reasoning_quality=0.5, problem_type="Algebra"),
        prediction(truncated=True, generated_tokens=30, problem_type="Number Theory"),
        prediction(correct=True, problem_type="Number Theory"),
    ]
    summary = summarize_predictions(rows)
    assert summary.accuracy == 0.5
    assert summary.format_rate == 0.5
    assert summary.reasoning_quality == 0.375
    # per row: (1 + 1 + 1)/3, (0 + 1 + 0.5)/3, 0, 1/3 -> mean 0.458333
    assert summary.mean_reward == pytest.approx((1 + 0.5 + 0 + 1 / 3) / 4, abs=1e-6)
    assert summary.truncation_rate == 0.25
    assert summary.mean_generated_tokens == 15.0
    assert summary.grader_timeouts == 0
    assert summary.accuracy_by_type == {"algebra": 0.5, "number_theory": 0.5}


def test_grader_timeouts_are_counted_per_model():
    rows = [prediction(grader_timed_out=True), prediction(), prediction(grader_timed_out=True)]
    base = summarize_predictions(rows)
    tuned = summarize_predictions([prediction()])
    metrics = build_metrics(base, tuned, samples=3)
    assert (metrics["eval/base/grader_timeouts"], metrics["eval/tuned/grader_timeouts"]) == (2, 0)


def test_metrics_are_flat_namespaced_numbers_with_the_difference():
    base = summarize_predictions([prediction(correct=False), prediction(correct=True)])
    tuned = summarize_predictions([prediction(correct=True), prediction(correct=True)])
    metrics = build_metrics(base, tuned, samples=2)
    assert metrics["eval/samples"] == 2
    assert metrics["eval/base/accuracy"] == 0.5
    assert metrics["eval/tuned/accuracy"] == 1.0
    assert metrics["eval/delta/accuracy"] == 0.5
    assert metrics["eval/tuned/accuracy/algebra"] == 1.0
    for name in ("base", "tuned", "delta"):
        for key in ("format_rate", "reasoning_quality", "mean_reward", "truncation_rate"):
            assert f"eval/{name}/{key}" in metrics
        assert f"eval/{name}/mean_generated_tokens" in metrics
        assert f"eval/{name}/grader_timeouts" in metrics
    assert all(isinstance(value, int | float) for value in metrics.values())


def test_evaluate_generations_is_deterministic():
    generations = {
        "base": [Generation("I think 5.", 5, False)] * 4,
        "tuned": [Generation(WORKED, 30, False)] + [Generation("x", 192, True)] * 3,
    }
    first = evaluate_generations(VALIDATION, generations)
    assert first == evaluate_generations(VALIDATION, generations)
    assert [row.model for row in first.predictions] == ["base"] * 4 + ["tuned"] * 4
    assert first.metrics["eval/delta/accuracy"] == 0.25
    assert first.metrics["eval/tuned/truncation_rate"] == 0.75


@pytest.mark.parametrize(
    "problem_type, slug",
    [
        ("Algebra", "algebra"),
        ("Number Theory", "number_theory"),
        ("Logic and Puzzles", "logic_and_puzzles"),
        ("Calculus / Analysis", "calculus_analysis"),  # runs of symbols become one "_"
        ("", "unknown"),
        (None, "unknown"),  # hub rows may lack a type
    ],
)
def test_slugify(problem_type, slug):
    assert slugify(problem_type) == slug


def test_predictions_table_has_one_column_per_prediction_field():
    names = [field.name for field in dataclasses.fields(Prediction)]
    assert PREDICTIONS_SCHEMA.names == names
    table = predictions_table([prediction(extracted_answer="4"), prediction(model="tuned")])
    assert table.schema == PREDICTIONS_SCHEMA
    assert table.column("extracted_answer").to_pylist() == ["4", None]


def test_read_validation_keeps_the_first_rows_in_file_order(tmp_path):
    path = write_validation(tmp_path / "validation.parquet", rows=5)
    assert read_validation(path, max_samples=3).uuid == ["uuid-0", "uuid-1", "uuid-2"]
    assert len(read_validation(path, max_samples=None).problem) == 5
    assert len(read_validation(path, max_samples=50).problem) == 5


@pytest.mark.parametrize(
    "rows, columns, message",
    [
        (3, ("uuid", "problem", "answer"), r"missing \['problem_type'\].*rerun the prepare stage"),
        (0, ("uuid", "problem", "answer", "problem_type"), "has no rows"),
    ],
)
def test_unusable_validation_file_names_the_fix(tmp_path, rows, columns, message):
    path = write_validation(tmp_path / "validation.parquet", rows, columns)
    with pytest.raises(SplitError, match=message):
        read_validation(path, max_samples=None)


def test_missing_validation_file_names_the_stage_to_run(tmp_path):
    with pytest.raises(SplitError, match="dvc repro prepare"):
        read_validation(tmp_path / "nothing.parquet", max_samples=None)


def test_plot_file_has_one_row_per_model(tmp_path):
    base = summarize_predictions([prediction(correct=False, reasoning_quality=0.25)])
    tuned = summarize_predictions([prediction(correct=True, format_ok=True)])
    path = tmp_path / "plots" / "eval_accuracy.csv"
    write_accuracy_plot(path, {"base": base, "tuned": tuned})
    assert path.read_text() == (
        "model,accuracy,format_rate,reasoning_quality\nbase,0.0,0.0,0.25\ntuned,1.0,1.0,0.0\n"
    )


def test_doctests_pass():
    assert doctest.testmod(mathtune.evaluation).failed == 0
