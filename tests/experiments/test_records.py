"""Reading DVC's records: which params changed, which model is final; real DVC below, in
tests/experiments/test_command.py."""

from __future__ import annotations

import doctest

import pytest

import mathtune.experiments.records
from mathtune.experiments.records import Experiment, changed_params


def experiment(name: str, params: dict, metrics: dict, state: str | None = "Success"):
    return Experiment(name, name, state, params, metrics)


def test_doctests_pass():
    assert doctest.testmod(mathtune.experiments.records).failed == 0


def test_only_params_that_differ_between_the_rows_are_changed():
    def params(lr: float, targets: list[str]) -> dict:
        return {"train.lr": lr, "train.seed": 42, "train.lora.target_modules": targets}

    rows = [
        experiment("a", params(0.002, ["q"]), {}),
        experiment("b", params(0.001, ["q"]), {}),
        experiment("c", params(0.002, ["v"]), {}),
    ]
    assert changed_params(rows) == ["train.lr", "train.lora.target_modules"]
    assert changed_params(rows[:1]) == []


@pytest.mark.parametrize(
    "metrics, final",
    [
        ({"eval/sft/heldout/accuracy": 0.1, "eval/grpo/heldout/accuracy": 0.2}, "grpo"),
        ({"eval/base/heldout/accuracy": 0.0, "eval/sft/heldout/accuracy": 0.1}, "sft"),  # RL off
        ({}, None),  # queued or failed: nothing evaluated
    ],
)
def test_the_final_model_is_the_last_one_evaluated(metrics, final):
    row = experiment("x", {}, metrics)
    assert row.final_model() == final
    assert row.final_accuracy("heldout") == (
        metrics[f"eval/{final}/heldout/accuracy"] if final else None
    )
