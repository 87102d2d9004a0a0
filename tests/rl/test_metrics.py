"""GRPO summaries from a log history shaped as GRPOTrainer writes it."""

from __future__ import annotations

import csv
import math

import pytest

from mathtune.rl.metrics import reward_curve_rows, summarize_rewards, write_reward_curve

NAMES = {"accuracy_reward": "accuracy", "format_reward": "format"}


def log_entry(step: int, accuracy: float, format_: float, **extra) -> dict:
    """One logged step as TRL records it (total = accuracy + 0.5 format)."""
    return {
        "step": step,
        "loss": 0.0,
        "rewards/accuracy_reward/mean": accuracy,
        "rewards/accuracy_reward/std": 0.1,
        "rewards/format_reward/mean": format_,
        "rewards/format_reward/std": 0.2,
        "reward": accuracy + 0.5 * format_,
        "reward_std": 0.3,
        "frac_reward_zero_std": 0.5,
        "completions/clipped_ratio": 0.25,
        "completions/mean_length": 40.0,
        **extra,
    }


def history(points: list[tuple[float, float]], **extra) -> list[dict]:
    entries = [log_entry(step, a, f, **extra) for step, (a, f) in enumerate(points, start=1)]
    # the trainer's closing summary, which carries no reward
    return entries + [{"step": len(points), "train_runtime": 9.0, "train_loss": 0.0}]


@pytest.mark.parametrize(
    "points, suspected",
    [
        # format farmed while accuracy falls: the total still rises
        ([(0.4, 0.0), (0.4, 0.2), (0.2, 1.0), (0.2, 1.0)], 1),
        # both rise: learning, not hacking
        ([(0.1, 0.5), (0.2, 0.5), (0.3, 0.8), (0.4, 0.9)], 0),
        # accuracy falls and the total with it: a bad run, but nothing farmed
        ([(0.4, 0.5), (0.4, 0.5), (0.1, 0.5), (0.1, 0.5)], 0),
    ],
)
def test_total_rising_while_accuracy_falls_is_flagged(points, suspected):
    metrics = summarize_rewards(history(points), NAMES, window=2)
    assert metrics["grpo/reward_hacking_suspected"] == suspected


def test_first_and_last_windows_average_their_steps():
    metrics = summarize_rewards(history([(0.0, 0.0), (0.2, 0.4), (0.6, 1.0)]), NAMES, window=2)
    assert metrics["grpo/reward/accuracy/first_mean"] == pytest.approx(0.1)
    assert metrics["grpo/reward/accuracy/last_mean"] == pytest.approx(0.4)
    assert metrics["grpo/reward/accuracy/delta"] == pytest.approx(0.3)
    assert metrics["grpo/reward/format/last_std"] == pytest.approx(0.2)
    assert metrics["grpo/reward/total/first_mean"] == pytest.approx(0.2)
    assert metrics["grpo/reward/total/first_std"] == pytest.approx(0.3)
    assert metrics["grpo/frac_reward_zero_std"] == 0.5
    assert metrics["grpo/truncated_share"] == 0.25
    assert metrics["grpo/mean_completion_length"] == 40.0


def test_kl_is_reported_only_when_logged():
    assert "grpo/kl" not in summarize_rewards(history([(0.1, 0.1)]), NAMES, window=1)
    metrics = summarize_rewards(history([(0.1, 0.1), (0.1, 0.1)], kl=0.02), NAMES, window=1)
    assert metrics["grpo/kl"] == 0.02


def test_history_without_rewards_is_an_error():
    with pytest.raises(ValueError, match="logged no reward"):
        summarize_rewards([{"step": 0, "train_runtime": 1.0}], NAMES, window=1)


def test_reward_curve_has_a_row_per_step_and_a_column_per_reward(tmp_path):
    rows = reward_curve_rows(history([(0.0, 1.0), (1.0, 1.0)]), NAMES)
    assert rows == [
        {"step": 1, "accuracy": 0.0, "format": 1.0, "total": 0.5},
        {"step": 2, "accuracy": 1.0, "format": 1.0, "total": 1.5},
    ]
    path = tmp_path / "grpo_reward.csv"
    write_reward_curve(path, rows, ["accuracy", "format"])
    with path.open() as stream:
        written = list(csv.DictReader(stream))
    assert [float(row["total"]) for row in written] == [0.5, 1.5]
    assert list(written[0]) == ["step", "accuracy", "format", "total"]
    assert not math.isnan(float(written[0]["accuracy"]))
