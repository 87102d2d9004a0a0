"""Training: learning rate from params, determinism, resume after a kill, counts, checkpoints."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file
from transformers import TrainerCallback

from conftest import (
    MAX_STEPS,
    SAVE_STEPS,
    changed,
    make_rows,
    model_params,
    tiny_params,
    write_rows,
)
from mathtune.core.params import load_params, params_as_dict
from mathtune.models.loading import load_tokenizer, locate_model
from mathtune.sft.batches import pack_by_tokens
from mathtune.sft.examples import load_split
from mathtune.sft.trainer import (
    TrainingError,
    TrainPaths,
    check_gpu_options,
    check_training,
    train_adapter,
)

REPO = Path(__file__).resolve().parents[2]
RUNTIME_KEYS = {"train/runtime_s", "train/real_tokens_per_s"}
KILL_AT_STEP = 3

# Runs train_adapter in a child process that dies like a killed `dvc repro` after a step.
KILL_SCRIPT = """
import os, sys
from pathlib import Path
from transformers import TrainerCallback
from mathtune.core.params import load_params
from mathtune.sft.trainer import TrainPaths, check_training, train_adapter

class KillAtStep(TrainerCallback):
    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == int(sys.argv[2]):
            os._exit(9)  # no exception handlers, no cleanup: as SIGKILL leaves things

params, paths = load_params(sys.argv[1]), TrainPaths(*map(Path, sys.argv[3:]))
train_adapter(params, check_training(params), paths, None, [KillAtStep()])
"""


class RecordingRun:
    """A TrackingRun that keeps what it is given."""

    def __init__(self) -> None:
        self.logged: list[tuple[int | None, dict[str, float]]] = []

    def log(self, metrics: dict[str, float], step: int | None = None) -> None:
        self.logged.append((step, metrics))

    def summarize(self, metrics: dict) -> None:
        pass

    def log_table(self, key: str, columns: list[str], rows: list[list]) -> None:
        pass

    def finish(self) -> None:
        pass


class RecordOptimizerLr(TrainerCallback):
    def __init__(self) -> None:
        self.lrs: list[float] = []
        self.base_lrs: list[float] = []

    def on_optimizer_step(self, args, state, control, optimizer=None, lr_scheduler=None, **kw):
        self.lrs.append(max(group["lr"] for group in optimizer.param_groups))
        self.base_lrs = list(lr_scheduler.base_lrs)


def output_paths(splits: TrainPaths, directory: Path) -> TrainPaths:
    return dataclasses.replace(
        splits, adapter_dir=directory / "adapter", checkpoint_dir=directory / "checkpoints"
    )


def adapter_tensors(paths: TrainPaths) -> dict[str, torch.Tensor]:
    return load_file(paths.adapter_dir / "adapter_model.safetensors")


def without_runtime(metrics: dict[str, float]) -> dict[str, float]:
    return {key: value for key, value in metrics.items() if key not in RUNTIME_KEYS}


@pytest.fixture(scope="module")
def splits(tmp_path_factory) -> TrainPaths:
    directory = tmp_path_factory.mktemp("prepared")
    train = write_rows(directory / "train.parquet", make_rows(12))
    validation = write_rows(directory / "validation.parquet", make_rows(16)[12:])
    return TrainPaths(train, validation, directory / "unused", directory / "unused")


@pytest.fixture(scope="module")
def reference(tiny_model_dir, splits, tmp_path_factory):
    """One uninterrupted run: (params, paths, result, tracking)."""
    params = tiny_params(tiny_model_dir)
    paths = output_paths(splits, tmp_path_factory.mktemp("reference"))
    tracking = RecordingRun()
    result = train_adapter(params, check_training(params), paths, tracking=tracking)
    return params, paths, result, tracking


def test_metrics_hold_final_losses_steps_tokens_and_counts(reference):
    _, _, result, _ = reference
    metrics = result.metrics
    assert metrics["train/steps"] == MAX_STEPS
    assert metrics["train/tokens_seen"] > 0
    assert metrics["train/examples"] == 12 and metrics["eval/examples"] == 4
    assert metrics["train/loss"] > 0 and metrics["eval/loss"] > 0
    assert set(metrics) >= RUNTIME_KEYS
    assert result.loss_curve[-1] == {
        "step": MAX_STEPS,
        "train_loss": metrics["train/loss"],
        "eval_loss": metrics["eval/loss"],
    }


def test_tracking_gets_namespaced_train_and_eval_metrics(reference):
    _, _, _, tracking = reference
    keys = {key for _, metrics in tracking.logged for key in metrics}
    expected = {"train/loss", "train/learning_rate", "train/grad_norm", "train/tokens_seen"}
    assert expected | {"eval/loss", "train/real_tokens_per_s"} <= keys
    assert not [key for key in keys if "/" not in key]
    assert [step for step, _ in tracking.logged] == sorted(step for step, _ in tracking.logged)


def test_same_params_give_same_metrics_and_another_seed_changes_them(reference, tmp_path):
    params, paths, result, _ = reference
    again = train_adapter(params, check_training(params), output_paths(paths, tmp_path / "again"))
    assert without_runtime(again.metrics) == without_runtime(result.metrics)
    other_seed = changed(params, train=changed(params.train, seed=7))
    other = train_adapter(
        other_seed, check_training(other_seed), output_paths(paths, tmp_path / "other")
    )
    assert other.metrics["eval/loss"] != result.metrics["eval/loss"]


def test_killed_run_resumes_from_its_checkpoint_to_the_same_adapter(reference, tmp_path):
    params, reference_paths, reference_result, _ = reference
    paths = output_paths(reference_paths, tmp_path)
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(params_as_dict(params)))
    command = [sys.executable, "-c", KILL_SCRIPT, str(params_file), str(KILL_AT_STEP)]
    killed = subprocess.run(command + [str(path) for path in dataclasses.astuple(paths)])
    assert killed.returncode == 9
    assert not paths.adapter_dir.exists()  # no half-written output
    assert (paths.checkpoint_dir / f"checkpoint-{SAVE_STEPS}").is_dir()

    steps = RecordOptimizerLr()
    resumed = train_adapter(params, check_training(params), paths, extra_callbacks=[steps])
    assert len(steps.lrs) == MAX_STEPS - SAVE_STEPS  # resumed, not restarted
    expected = adapter_tensors(reference_paths)
    for name, tensor in adapter_tensors(paths).items():
        torch.testing.assert_close(tensor, expected[name], atol=1e-6, rtol=1e-5)
    assert without_runtime(resumed.metrics) == pytest.approx(
        without_runtime(reference_result.metrics)
    )


def test_optimizer_uses_the_learning_rate_written_by_dvc_exp_run(tiny_model_dir, splits, tmp_path):
    # `dvc exp run -S train.lr=1e-6` writes `lr: 1e-06`, which YAML 1.1 reads as a string.
    params = tiny_params(tiny_model_dir, max_steps=4, warmup_ratio=0.5, lr_scheduler="linear")
    text = yaml.safe_dump(params_as_dict(params)).replace("lr: 0.001", "lr: 1e-06")
    (tmp_path / "params.yaml").write_text(text)
    recorder = RecordOptimizerLr()
    params = load_params(tmp_path / "params.yaml")
    train_adapter(params, check_training(params), output_paths(splits, tmp_path), None, [recorder])
    assert recorder.base_lrs and set(recorder.base_lrs) == {1e-6}
    assert max(recorder.lrs) == pytest.approx(1e-6, rel=1e-9)  # peak after 2 warmup steps
    assert recorder.lrs[0] < 1e-6


def test_warmup_ratio_is_a_share_of_the_steps_of_the_epochs(tiny_model_dir, splits, tmp_path):
    # 12 rows in batches of 2 with 2 accumulation steps: 3 steps an epoch, 6 in 2 epochs,
    # so a ratio of 0.4 warms up for ceil(2.4) = 3 steps and the learning rate peaks at the 4th.
    params = tiny_params(
        tiny_model_dir,
        max_steps=None,
        epochs=2.0,
        gradient_accumulation_steps=2,
        warmup_ratio=0.4,
        lr_scheduler="linear",
    )
    recorder = RecordOptimizerLr()
    train_adapter(params, check_training(params), output_paths(splits, tmp_path), None, [recorder])
    assert len(recorder.lrs) == 6
    assert recorder.lrs.index(max(recorder.lrs)) == 3
    assert recorder.lrs[:4] == sorted(recorder.lrs[:4])


def test_padded_and_padding_free_runs_count_real_tokens_and_agree(tiny_model_dir, splits, tmp_path):
    # No dropout: its random masks take the batch's shape, which differs between the two.
    results = {}
    for padding_free in (True, False):
        params = tiny_params(tiny_model_dir, lora_dropout=0.0, padding_free=padding_free)
        results[padding_free] = train_adapter(
            params, check_training(params), output_paths(splits, tmp_path / "x")
        ).metrics
    tokenizer_lengths = _split_lengths(tiny_model_dir, splits.train)
    # Every example is seen once per epoch: 6 steps x 2 = 12 examples = one epoch.
    assert results[True]["train/tokens_seen"] == sum(tokenizer_lengths)
    assert results[False]["train/tokens_seen"] == sum(tokenizer_lengths)
    assert results[True]["eval/loss"] == pytest.approx(results[False]["eval/loss"], abs=1e-4)


def test_a_token_budget_trains_one_pack_of_whole_examples_per_step(
    tiny_model_dir, splits, tmp_path
):
    params = tiny_params(
        tiny_model_dir, max_steps=None, epochs=1.0, per_device_batch_size=1, batch_tokens=256
    )
    metrics = train_adapter(params, check_training(params), output_paths(splits, tmp_path)).metrics
    lengths = _split_lengths(tiny_model_dir, splits.train)
    packs = pack_by_tokens([{"input_ids": [0] * n} for n in lengths], 256, params.train.seed)
    assert 1 < metrics["train/steps"] == len(packs) < len(lengths)
    assert metrics["train/tokens_seen"] == sum(lengths)  # every example once, none cut


def test_gradient_checkpointing_trains_to_the_same_adapter(tiny_model_dir, splits, tmp_path):
    runs = {}
    for checkpointing in (False, True):
        params = tiny_params(tiny_model_dir, max_steps=2, gradient_checkpointing=checkpointing)
        runs[checkpointing] = output_paths(splits, tmp_path / str(checkpointing))
        train_adapter(params, check_training(params), runs[checkpointing])
    plain = adapter_tensors(runs[False])
    for name, tensor in adapter_tensors(runs[True]).items():
        torch.testing.assert_close(tensor, plain[name], atol=1e-6, rtol=1e-5)


def test_liger_kernel_without_package_or_gpu_names_the_fix(tiny_model_dir):
    params = tiny_params(tiny_model_dir, liger_kernel=True)
    if torch.cuda.is_available():
        pytest.skip("this machine may run liger-kernel")
    with pytest.raises(TrainingError, match="make setup-gpu|needs a CUDA GPU"):
        check_gpu_options(params.train)


def _split_lengths(model_dir: Path, path: Path) -> list[int]:
    tokenizer = load_tokenizer(locate_model(model_params(source="local", local_dir=str(model_dir))))
    return [len(feature["input_ids"]) for feature in load_split(path, tokenizer, 128).features]
