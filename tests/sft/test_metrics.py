"""The training run's W&B keys, step timing and loss curve, from the Trainer's logs."""

from __future__ import annotations

import csv

from transformers import TrainerControl, TrainerState, TrainingArguments

from mathtune.sft.metrics import MetricsCallback, loss_curve_rows, write_loss_curve

HISTORY = [
    {"step": 5, "loss": 0.9, "learning_rate": 1e-3},
    {"step": 10, "loss": 0.5},
    {"step": 10, "eval_loss": 0.6, "eval_runtime": 1.0},
    {"step": 12, "train_loss": 0.7, "train_runtime": 30.0},  # the Trainer's closing summary
]


class RecordingRun:
    """A tracking run that keeps what it is given."""

    def __init__(self) -> None:
        self.logged: list[tuple[dict, int]] = []

    def log(self, metrics: dict, step: int) -> None:
        self.logged.append((metrics, step))


def test_loss_curve_has_one_row_per_logged_step_with_both_losses_joined():
    assert loss_curve_rows(HISTORY) == [
        {"step": 5, "train_loss": 0.9, "eval_loss": None},
        {"step": 10, "train_loss": 0.5, "eval_loss": 0.6},
    ]


def test_loss_curve_csv_leaves_unmeasured_losses_empty(tmp_path):
    path = tmp_path / "plots" / "train_loss.csv"
    path.parent.mkdir()
    write_loss_curve(path, loss_curve_rows(HISTORY))
    rows = list(csv.DictReader(path.open()))
    assert rows == [
        {"step": "5", "train_loss": "0.9", "eval_loss": ""},
        {"step": "10", "train_loss": "0.5", "eval_loss": "0.6"},
    ]


def test_logs_reach_tracking_under_train_and_eval_names(tmp_path):
    run = RecordingRun()
    callback = MetricsCallback(run)
    state, control = TrainerState(global_step=10, max_steps=20), TrainerControl()
    arguments = TrainingArguments(output_dir=str(tmp_path), report_to=[])
    callback.on_log(arguments, state, control, logs={"loss": 0.5, "eval_loss": 0.6})
    callback.on_log(arguments, state, control, logs={"num_input_tokens_seen": 640})
    callback.on_log(arguments, state, control, logs={"train_loss": 0.7})
    (first, step), (second, _), (third, _) = run.logged
    assert step == 10
    assert first == {"train/loss": 0.5, "eval/loss": 0.6, "train/real_tokens_per_s": 0.0}
    assert second["train/tokens_seen"] == 640
    assert third["train/run_mean_loss"] == 0.7


def test_the_last_step_is_always_logged_and_tokens_count_this_session_only(tmp_path):
    callback = MetricsCallback(RecordingRun())
    arguments = TrainingArguments(output_dir=str(tmp_path), report_to=[])
    # A resumed run: 400 tokens were seen before this session started.
    state, control = TrainerState(global_step=19, max_steps=20), TrainerControl()
    state.num_input_tokens_seen = 400
    callback.on_train_begin(arguments, state, control)
    state.global_step, state.num_input_tokens_seen = 20, 500
    callback.on_step_end(arguments, state, control)
    assert control.should_log
    assert callback.session_tokens == 100
    assert callback.real_tokens_per_s > 0
