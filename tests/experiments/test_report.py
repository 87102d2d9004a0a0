"""The generated report: every experiment, accuracies with their standard errors, a figure."""

from __future__ import annotations

import datetime

from mathtune.experiments.records import Experiment
from mathtune.experiments.report import render_report, write_report

DAY = datetime.date(2026, 12, 4)
METRICS = {
    "eval/sft/seen/accuracy": 0.375,
    "eval/sft/heldout/accuracy": 0.0,
    "eval/sft/probe/accuracy": 0.3125,
    "eval/sft/accuracy": 0.229,
    "eval/sft/accuracy_stderr": 0.035,
    "train/loss": 0.0838,
}
ERRORS = {"eval/sft/seen/accuracy": 0.0706, "eval/sft/probe/accuracy": 0.0677}
ROWS = [
    Experiment("main", "abc1234", None, {"grpo.enabled": True}, METRICS, ERRORS),
    Experiment("no-rl", "def5678", "Success", {"grpo.enabled": False}, METRICS, ERRORS),
    Experiment("broken", "0123abc", "Failed", {"grpo.enabled": True}, {}),
]


def test_the_report_gives_each_accuracy_its_standard_error():
    text = render_report(ROWS, {"no-rl": "SFT alone"}, "experiments.png", DAY)
    lines = text.splitlines()
    assert "Written on 2026-12-04 by `python -m mathtune experiments report`" in text
    header = next(line for line in lines if line.startswith("| experiment"))
    assert "sft seen" in header and "sft ± se" not in header  # the error sits in its cell
    no_rl = next(line for line in lines if line.startswith("| no-rl"))
    assert "`grpo.enabled=false`" in no_rl and "SFT alone" in no_rl
    assert "37.5% ± 7.1" in no_rl and "31.2% ± 6.8" in no_rl and "0.0838" in no_rl
    assert lines.index(no_rl) > lines.index(header)
    assert "| broken | Failed |" in text  # kept, with empty cells, so a failure is seen
    assert "![accuracy per experiment](experiments.png)" in text


def test_report_and_figure_are_written_side_by_side(tmp_path):
    figure = write_report(ROWS, {}, tmp_path / "experiments.md", DAY)
    assert figure == tmp_path / "experiments.png"
    assert figure.read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "experiments.md").read_text().startswith("# Experiments")
