"""Scoring with the project's grader, requests per set, the predictions table, --adapter."""

from __future__ import annotations

import dataclasses
import doctest
from pathlib import Path

import pyarrow as pa
import pytest

import mathtune.eval.scoring
from conftest import prediction
from mathtune.eval.scoring import (
    PREDICTIONS_SCHEMA,
    Prediction,
    drop_repeated_adapters,
    parse_adapter_option,
    predictions_table,
    score_answers,
    score_generations,
)
from mathtune.eval.sets import EvalSet, Problem
from mathtune.grading.reasoning import score_reasoning
from mathtune.models.generation import Generation

REPO = Path(__file__).resolve().parents[2]
SEEN = EvalSet(
    "seen",
    [
        Problem("u1", "2 + 2?", "4", "Algebra", "sum"),
        Problem("u2", "3 * 3?", "9", "Algebra", "product"),
        Problem("u3", "Half of 1?", "\\frac{1}{2}", "Number Theory", "fraction"),
        Problem("u4", "Is 7 prime?", "yes", "Logic and Puzzles", "primes"),
    ],
)
WORKED = "Step 1: 2 + 2 = 4.\nStep 2: check 4 - 2 = 2.\nSo the answer is $\\boxed{4}$."


def test_score_generations_reads_one_grade_per_generation():
    texts = [
        WORKED,  # right, boxed, worked steps
        "The answer is 9.",  # right but not boxed
        "<think>it is \\boxed{0.5}</think> I am not sure.",  # boxed only inside <think>
        "So \\boxed{no}.",  # boxed but wrong
    ]
    generations = [Generation(text, 20, truncated=False) for text in texts]
    rows = score_generations("sft", SEEN, generations)
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
    assert {(row.model, row.split, row.sample) for row in rows} == {("sft", "seen", None)}
    assert [row.family for row in rows] == ["sum", "product", "fraction", "primes"]
    assert [row.gold for row in rows] == [problem.answer for problem in SEEN.problems]


def test_score_answers_keeps_greedy_and_each_sampled_draw_apart():
    bench = EvalSet("gsm8k", SEEN.problems[:2], benchmark=True)
    right, wrong = Generation("\\boxed{4}", 3, False), Generation("\\boxed{5}", 3, False)
    answers = {
        "base": {
            "gsm8k": [[wrong], [wrong]],
            # problem 1: draws right, wrong, right; problem 2: three wrong
            "gsm8k/sampled": [[right, wrong, right], [wrong, wrong, wrong]],
        }
    }
    rows = score_answers([bench], answers)
    assert [(row.uuid, row.sample) for row in rows] == [
        ("u1", None),
        ("u2", None),
        ("u1", 0),
        ("u2", 0),
        ("u1", 1),
        ("u2", 1),
        ("u1", 2),
        ("u2", 2),
    ]
    assert [row.correct for row in rows if row.uuid == "u1"] == [False, True, False, True]


def test_predictions_schema_follows_the_prediction_fields():
    names = [field.name for field in dataclasses.fields(Prediction)]
    assert PREDICTIONS_SCHEMA.names == names
    assert PREDICTIONS_SCHEMA.field("sample").type == pa.int64()
    assert PREDICTIONS_SCHEMA.field("extracted_answer").type == pa.string()
    table = predictions_table([prediction(extracted_answer="4"), prediction(sample=2)])
    assert table.schema == PREDICTIONS_SCHEMA
    assert table.column("extracted_answer").to_pylist() == ["4", None]
    assert table.column("sample").to_pylist() == [None, 2]


@pytest.mark.parametrize(
    "text",
    [
        "sft",  # no path
        "sft=",  # empty path
        "=models/adapter",  # no name
        "base=models/adapter",  # the base model's name
        "delta=models/adapter",  # taken by eval/delta/... keys
        "samples=models/adapter",  # taken by eval/samples/... keys
        "SFT=models/adapter",  # upper case
        "sft/v2=models/adapter",  # would split the metric key
    ],
)
def test_bad_adapter_option_says_the_expected_form(text):
    with pytest.raises(ValueError, match="expected NAME=PATH"):
        parse_adapter_option(text)


def test_adapter_option_splits_name_and_path():
    assert parse_adapter_option("grpo_2=models/grpo=x") == ("grpo_2", Path("models/grpo=x"))


def _write_adapter(folder: Path, weights: bytes) -> Path:
    folder.mkdir()
    (folder / "adapter_model.safetensors").write_bytes(weights)
    (folder / "adapter_config.json").write_text('{"r": 16}')
    return folder


def test_an_adapter_identical_to_an_earlier_one_is_evaluated_once(tmp_path, caplog):
    sft = _write_adapter(tmp_path / "adapter", b"trained weights")
    copy = _write_adapter(tmp_path / "grpo_adapter", b"trained weights")
    other = _write_adapter(tmp_path / "other", b"other weights")
    with caplog.at_level("INFO"):
        kept = drop_repeated_adapters({"sft": sft, "grpo": copy, "rl2": other})
    assert kept == {"sft": sft, "rl2": other}
    assert "grpo" in caplog.text and "evaluated once, as sft" in caplog.text


def test_adapters_that_differ_or_are_missing_are_all_kept(tmp_path):
    sft = _write_adapter(tmp_path / "adapter", b"trained weights")
    retrained = _write_adapter(tmp_path / "grpo_adapter", b"trained weights")
    (retrained / "adapter_config.json").write_text('{"r": 8}')
    # A missing folder is left for the model loader, which names the fix.
    adapters = {"sft": sft, "grpo": retrained, "a": tmp_path / "missing", "b": tmp_path / "gone"}
    assert drop_repeated_adapters(adapters) == adapters


def test_doctests_pass():
    assert doctest.testmod(mathtune.eval.scoring).failed == 0
