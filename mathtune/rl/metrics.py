"""What a GRPO run did, read from TRL's log history: reward curves, first vs last, hacking.

GRPOTrainer logs, per logged step, `rewards/<function>/mean` and `/std` for each reward
function, `reward` (the weighted total), `frac_reward_zero_std` (groups whose completions
all got the same reward: no gradient), `completions/clipped_ratio` (cut at the length
limit), `completions/mean_length` and `kl` (when beta > 0). The trainer restores that
history on resume, so an interrupted and an uninterrupted run report the same numbers;
only `grpo/runtime_s`, `grpo/s_per_step` and `grpo/completions_per_s` measure wall-clock time.

Reward hacking shows as the total rising while accuracy falls between the first and the
last logged steps: `grpo/reward_hacking_suspected` is then 1.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from transformers import TrainerCallback

from mathtune.core.io import write_csv
from mathtune.core.statistics import mean
from mathtune.core.tracking import TrackingRun

logger = logging.getLogger(__name__)

TOTAL = "total"  # the weighted sum of all rewards, in curves and metrics
# What metrics/grpo.json keeps of the report: where the reward ended.
HEADLINE = [f"grpo/reward/{TOTAL}/last_mean"]
ACCURACY = "accuracy"


def reward_logs(log_history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The training log entries that carry rewards (one per logged step), in step order."""
    return [entry for entry in log_history if "reward" in entry]


def reward_curve_rows(
    log_history: list[dict[str, Any]], names: dict[str, str]
) -> list[dict[str, float]]:
    """One row per logged step: step, each reward by registry name, total.

    `names` maps TRL's reward function names (`accuracy_reward`) to registry names.
    """
    return [
        {
            "step": entry["step"],
            **{name: entry[f"rewards/{function}/mean"] for function, name in names.items()},
            TOTAL: entry["reward"],
        }
        for entry in reward_logs(log_history)
    ]


def write_reward_curve(path: str | Path, rows: list[dict[str, float]], names: list[str]) -> None:
    """The reward curve as CSV for `dvc plots`: step, one column per reward, total."""
    write_csv(path, rows, fieldnames=["step", *names, TOTAL])


def summarize_rewards(
    log_history: list[dict[str, Any]], names: dict[str, str], window: int
) -> dict[str, float]:
    """Per reward: mean and std over the first and the last `window` logged steps, and more.

    A window's std is the mean of the per-step stds (spread across one step's completions).
    """
    entries = reward_logs(log_history)
    if not entries:
        raise ValueError("GRPO logged no reward: did the run take any step?")
    first, last = entries[:window], entries[-window:]
    keys = {name: f"rewards/{function}" for function, name in names.items()}
    keys[TOTAL] = "reward"
    metrics: dict[str, float] = {}
    for name, key in keys.items():
        std_key = "reward_std" if name == TOTAL else f"{key}/std"
        mean_key = "reward" if name == TOTAL else f"{key}/mean"
        for label, part in (("first", first), ("last", last)):
            metrics[f"grpo/reward/{name}/{label}_mean"] = _mean_of(part, mean_key)
            metrics[f"grpo/reward/{name}/{label}_std"] = _mean_of(part, std_key)
        metrics[f"grpo/reward/{name}/delta"] = (
            metrics[f"grpo/reward/{name}/last_mean"] - metrics[f"grpo/reward/{name}/first_mean"]
        )
    hacking = metrics[f"grpo/reward/{TOTAL}/delta"] > 0 > metrics[f"grpo/reward/{ACCURACY}/delta"]
    metrics["grpo/reward_hacking_suspected"] = int(hacking)
    metrics["grpo/frac_reward_zero_std"] = _mean_of(entries, "frac_reward_zero_std")
    metrics["grpo/truncated_share"] = _mean_of(entries, "completions/clipped_ratio")
    metrics["grpo/mean_completion_length"] = _mean_of(entries, "completions/mean_length")
    if any("kl" in entry for entry in entries):
        metrics["grpo/kl"] = _mean_of(last, "kl")
    return {key: round(value, 6) for key, value in metrics.items()}


def grader_failures(log_history: list[dict[str, Any]], logging_steps: int) -> dict[str, float]:
    """Comparisons of the run that ran past the grader's CPU budget (pathological answers,
    scored 0) and those its worker pool could not run (graded in-process), counted apart.

    The accuracy reward logs both per batch (`grader/timeouts`, `grader/machinery_failures`)
    and TRL logs their mean over each logging window: mean x steps per window is the count.

    >>> grader_failures([{"reward": 0.5, "grader/timeouts": 1.0}, {"reward": 0.2}], 1)
    {'grpo/grader_timeouts': 1.0, 'grpo/grader_machinery_failures': 0.0}
    """
    entries = reward_logs(log_history)
    return {
        f"grpo/{name.replace('grader/', 'grader_')}": float(
            sum(entry.get(name, 0.0) for entry in entries) * logging_steps
        )
        for name in ("grader/timeouts", "grader/machinery_failures")
    }


def _mean_of(entries: list[dict[str, Any]], key: str) -> float:
    return mean(entry[key] for entry in entries if entry.get(key) is not None)


def completion_rows(
    directory: Path,
    names: dict[str, str],
    count: int,
    to_text: Callable[[Any], str],
) -> tuple[list[str], list[list[Any]]]:
    """Up to `count` completions with their rewards, from the first and the last logged step.

    Reads the Parquet files GRPOTrainer writes with `log_completions` (one per logged step).
    """
    columns = ["step", "prompt", "completion", *names.values(), "advantage"]
    files = sorted(directory.glob("completions_*.parquet"))
    if not files or count == 0:
        return columns, []
    # Half from the first logged step, half from the last (all from one file if only one).
    picked = (
        [(files[0], count - count // 2), (files[-1], count // 2)]
        if len(files) > 1
        else [(files[0], count)]
    )
    rows = []
    for path, share in picked:
        table = pq.read_table(path).to_pylist()
        rows += [
            [
                row["step"],
                _last_message(row["prompt"]),
                to_text(row["completion"]),
                *(row[function] for function in names),
                row["advantage"],
            ]
            for row in table[:share]
        ]
    return columns, rows


def _last_message(prompt: Any) -> str:
    """The user's problem of a conversational prompt (a plain string prompt as it is)."""
    if isinstance(prompt, list) and prompt and isinstance(prompt[-1], dict):
        return str(prompt[-1].get("content", ""))
    return str(prompt)


class GrpoMetricsCallback(TrainerCallback):
    """Mirrors GRPO logs to tracking as grpo/<key>, and times this session's steps."""

    def __init__(self, tracking: TrackingRun, completions_per_step: int) -> None:
        self.tracking = tracking
        self.completions_per_step = completions_per_step
        self.session_steps = 0
        self.seconds = 0.0
        self._start_step = 0
        self._started = time.perf_counter()

    @property
    def completions_per_s(self) -> float:
        completions = self.session_steps * self.completions_per_step
        return completions / self.seconds if self.seconds else 0.0

    def on_train_begin(self, args, state, control, **kwargs):
        self._start_step = state.global_step
        self._started = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.session_steps = state.global_step - self._start_step
        self.seconds = time.perf_counter() - self._started
        if state.global_step >= state.max_steps:
            control.should_log = True  # so the last step is in the curve

    def on_log(self, args, state, control, logs=None, **kwargs):
        metrics = {
            f"grpo/{key}": value
            for key, value in (logs or {}).items()
            if isinstance(value, int | float)
        }
        self.tracking.log(metrics, step=state.global_step)
