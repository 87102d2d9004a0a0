"""The readable table: changed params only, headline metrics, best held-out accuracy first."""

from __future__ import annotations

import doctest

import mathtune.experiments.table
from mathtune.experiments.records import Experiment
from mathtune.experiments.table import render_table, table_rows

BASELINE = Experiment(
    "main", "abc1234", None, {"train.lr": 0.002, "train.seed": 42},
    {"eval/grpo/heldout/accuracy": 0.0, "eval/grpo/probe/accuracy": 0.25, "eval/loss": 0.0883},
)  # fmt: skip
BETTER = Experiment(
    "lr-3e-3", "def5678", "Success", {"train.lr": 0.003, "train.seed": 42},
    {"eval/grpo/heldout/accuracy": 0.125, "eval/grpo/probe/accuracy": 0.3125, "eval/loss": 0.0921},
)  # fmt: skip
QUEUED = Experiment("seed-1", "0123abc", "Queued", {"train.lr": 0.002, "train.seed": 1}, {})


def test_doctests_pass():
    assert doctest.testmod(mathtune.experiments.table).failed == 0


def test_rows_hold_changed_params_and_metrics_best_held_out_first():
    header, rows = table_rows([BASELINE, QUEUED, BETTER])
    assert header == ["experiment", "state", "train.lr", "train.seed", "grpo heldout",
                      "grpo probe", "eval/loss"]  # fmt: skip
    assert rows == [
        ["lr-3e-3", "Success", "0.003", "42", "12.5%", "31.2%", "0.0921"],
        ["main", "-", "0.002", "42", "0.0%", "25.0%", "0.0883"],
        ["seed-1", "Queued", "0.002", "1", "-", "-", "-"],  # nothing yet: last
    ]


def test_columns_line_up():
    lines = render_table(*table_rows([BASELINE, BETTER])).splitlines()
    assert len(lines) == 3
    assert len({line.index("grpo heldout") for line in lines[:1]}) == 1
    assert lines[1].index("12.5%") == lines[0].index("grpo heldout")
