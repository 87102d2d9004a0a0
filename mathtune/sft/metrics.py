"""What a training run logs as it goes: W&B metrics per logged step, the steps' own time
and tokens, and the loss curve that `dvc plots` draws.

The Trainer restores its log history on resume, so the loss curve of an interrupted run
equals that of an uninterrupted one; `train/real_tokens_per_s` counts this session's steps
only.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from mathtune.core.io import write_csv
from mathtune.core.tracking import TrackingRun

# What metrics/train.json keeps of the report: the losses tell under- from overfitting.
HEADLINE = ["train/loss", "eval/loss"]
# Trainer log keys renamed for W&B; the rest become train/<key> or eval/<key>.
LOG_KEY_NAMES = {"num_input_tokens_seen": "train/tokens_seen", "train_loss": "train/run_mean_loss"}


class MetricsCallback(TrainerCallback):
    """Logs the last step too, times the training steps, and mirrors logs to tracking.

    Real tokens/s counts non-pad input tokens over the time spent in training steps
    (collation, forward, backward, optimizer), leaving out evaluation, logging and saving.
    """

    def __init__(self, tracking: TrackingRun) -> None:
        self.tracking = tracking
        self.step_seconds = 0.0
        self.session_tokens = 0
        self._tokens_at_start = 0
        self._mark = time.perf_counter()

    @property
    def real_tokens_per_s(self) -> float:
        return self.session_tokens / self.step_seconds if self.step_seconds else 0.0

    def on_train_begin(self, args, state, control, **kwargs):
        self._tokens_at_start = state.num_input_tokens_seen
        self._mark = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        now = time.perf_counter()
        self.step_seconds += now - self._mark
        self._mark = now
        self.session_tokens = state.num_input_tokens_seen - self._tokens_at_start
        if state.global_step >= state.max_steps:
            control.should_log = True  # so the final train loss is in the log history

    def on_log(self, args, state, control, logs=None, **kwargs):
        metrics = {_namespace(key): value for key, value in (logs or {}).items()}
        metrics["train/real_tokens_per_s"] = self.real_tokens_per_s
        self.tracking.log(metrics, step=state.global_step)
        self._mark = time.perf_counter()

    def on_evaluate(self, args, state, control, **kwargs):
        self._mark = time.perf_counter()

    def on_save(self, args, state, control, **kwargs):
        self._mark = time.perf_counter()


def loss_curve_rows(log_history: list[dict[str, Any]]) -> list[dict[str, float | None]]:
    """One row per logged step: step, train_loss, eval_loss (None where not measured)."""
    rows: dict[int, dict[str, float | None]] = {}
    for entry in log_history:
        for source, column in (("loss", "train_loss"), ("eval_loss", "eval_loss")):
            if source in entry:
                row = rows.setdefault(entry["step"], {"train_loss": None, "eval_loss": None})
                row[column] = entry[source]
    return [{"step": step, **rows[step]} for step in sorted(rows)]


def _namespace(key: str) -> str:
    if key in LOG_KEY_NAMES:
        return LOG_KEY_NAMES[key]
    for prefix in ("train", "eval"):
        if key.startswith(prefix + "_"):
            return f"{prefix}/{key.removeprefix(prefix + '_')}"
    return f"train/{key}"


def write_loss_curve(path: str | Path, rows: list[dict[str, float | None]]) -> None:
    """Write the loss curve as CSV for `dvc plots` (empty cells where a loss was not measured)."""
    write_csv(path, rows, fieldnames=["step", "train_loss", "eval_loss"])
