"""The grpo stage end to end: outputs, RL off, early errors, resume after a kill."""

from __future__ import annotations

import csv
import dataclasses
import json
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from transformers import TrainerCallback

from conftest import changed, grpo_params, stage_fails
from mathtune.core.params import Params, params_as_dict
from mathtune.rl.setup import GrpoPaths, check_grpo
from mathtune.rl.trainer import train_grpo

STAGE = Path(__file__).resolve().parents[2] / "stages" / "grpo.py"
OUTPUTS = [
    "models/grpo_adapter",
    "metrics/grpo.json",
    "reports/grpo.json",
    "plots/grpo_reward.csv",
    "plots/grpo_reward.png",
]
ARGUMENTS = (
    "--train train.parquet --sft-adapter-dir models/adapter --adapter-dir models/grpo_adapter "
    "--checkpoint-dir checkpoints/grpo --metrics metrics/grpo.json --report reports/grpo.json "
    "--plot plots/grpo_reward.csv --figure plots/grpo_reward.png"
)

# Runs train_grpo in a child process that dies like a killed `dvc repro` after a step.
KILL_SCRIPT = """
import os, sys
from pathlib import Path
from transformers import TrainerCallback
from mathtune.rl.trainer import train_grpo
from mathtune.rl.setup import GrpoPaths, check_grpo
from mathtune.core.params import load_params

class KillAtStep(TrainerCallback):
    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == int(sys.argv[2]):
            os._exit(9)  # no exception handlers, no cleanup: as SIGKILL leaves things

params, paths = load_params(sys.argv[1]), GrpoPaths(*map(Path, sys.argv[3:]))
train_grpo(params, check_grpo(params, paths), paths, None, [KillAtStep()])
"""


def run_stage(directory: Path, params: Params, inputs: GrpoPaths, monkeypatch) -> None:
    """Run `stages/grpo.py` in `directory` with `params` and copies of the inputs."""
    (directory / "params.yaml").write_text(yaml.safe_dump(params_as_dict(params)))
    shutil.copy(inputs.train, directory / "train.parquet")
    shutil.copytree(inputs.sft_adapter_dir, directory / "models/adapter")
    monkeypatch.chdir(directory)
    monkeypatch.setattr(sys, "argv", [str(STAGE), *ARGUMENTS.split()])
    runpy.run_path(str(STAGE), run_name="__main__")


def with_wandb(params: Params, mode: str) -> Params:
    return changed(params, wandb=changed(params.wandb, mode=mode))


def test_stage_writes_adapter_metrics_curve_and_wandb_run(
    tiny_model_dir, grpo_inputs, tmp_path, monkeypatch
):
    params = with_wandb(grpo_params(tiny_model_dir), "offline")
    run_stage(tmp_path, params, grpo_inputs, monkeypatch)

    adapter, sft = tmp_path / "models/grpo_adapter", tmp_path / "models/adapter"
    assert sorted(path.name for path in adapter.iterdir()) == sorted(
        path.name for path in sft.iterdir()
    )
    config = json.loads((adapter / "adapter_config.json").read_text())
    assert config == json.loads((sft / "adapter_config.json").read_text())
    metrics = json.loads((tmp_path / "reports/grpo.json").read_text())
    assert metrics["grpo/steps"] == 2 and metrics["grpo/enabled"] == 1
    headline = json.loads((tmp_path / "metrics/grpo.json").read_text())
    assert headline == {"grpo/reward/total/last_mean": metrics["grpo/reward/total/last_mean"]}
    for name in ("accuracy", "format", "total"):
        assert {"first_mean", "first_std", "last_mean", "last_std", "delta"} <= {
            key.rsplit("/", 1)[1] for key in metrics if key.startswith(f"grpo/reward/{name}/")
        }
    expected = {"grpo/frac_reward_zero_std", "grpo/truncated_share", "grpo/completions_per_s"}
    assert expected | {"grpo/mean_completion_length", "grpo/runtime_s"} <= set(metrics)
    with (tmp_path / "plots/grpo_reward.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert [row["step"] for row in rows] == ["1", "2"]
    assert list(rows[0]) == ["step", "accuracy", "format", "total"]
    assert not (tmp_path / "checkpoints/grpo").exists()
    assert not list(tmp_path.glob("**/.*.*"))  # no temporary leftovers of atomic writes
    (run_dir,) = (tmp_path / "wandb").glob("offline-run-*")
    assert list(run_dir.glob("**/*.wandb"))


def test_stage_with_rl_off_copies_the_sft_adapter(
    tiny_model_dir, grpo_inputs, tmp_path, monkeypatch
):
    params = grpo_params(tiny_model_dir)
    params = changed(params, grpo=changed(params.grpo, enabled=False))
    run_stage(tmp_path, params, grpo_inputs, monkeypatch)
    for path in grpo_inputs.sft_adapter_dir.iterdir():
        assert (tmp_path / "models/grpo_adapter" / path.name).read_bytes() == path.read_bytes()
    assert json.loads((tmp_path / "reports/grpo.json").read_text()) == {
        "grpo/enabled": 0,
        "grpo/steps": 0,
    }
    assert json.loads((tmp_path / "metrics/grpo.json").read_text()) == {}
    with (tmp_path / "plots/grpo_reward.csv").open() as stream:
        assert stream.read().strip() == "step,accuracy,format,total"


def test_stage_stops_on_unknown_reward_before_loading_anything(
    capsys, tiny_model_dir, grpo_inputs, tmp_path, monkeypatch
):
    params = with_wandb(
        grpo_params(tiny_model_dir, rewards={"accuracy": 1.0, "lenght": 1.0}), "offline"
    )
    with stage_fails(capsys, "grpo.rewards names 'lenght'"):
        run_stage(tmp_path, params, grpo_inputs, monkeypatch)
    assert not [output for output in OUTPUTS if (tmp_path / output).exists()]
    assert not (tmp_path / "checkpoints").exists()
    assert not (tmp_path / "wandb").exists()


def test_stage_stops_on_a_step_its_processes_cannot_share_before_loading_anything(
    capsys, tiny_model_dir, grpo_inputs, tmp_path, monkeypatch
):
    params = with_wandb(grpo_params(tiny_model_dir), "offline")  # 2 x 2 = 4 completions
    monkeypatch.setenv("WORLD_SIZE", "3")  # as accelerate launch --num_processes 3 sets it
    with stage_fails(capsys, "4 completions, which launch.num_processes 3 cannot"):
        run_stage(tmp_path, params, grpo_inputs, monkeypatch)
    assert not [output for output in OUTPUTS if (tmp_path / output).exists()]
    assert not (tmp_path / "checkpoints").exists()
    assert not (tmp_path / "wandb").exists()


class RecordStart(TrainerCallback):
    def __init__(self) -> None:
        self.start_step: int | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        self.start_step = state.global_step


@pytest.mark.slow
def test_killed_run_resumes_from_its_last_checkpoint(tiny_model_dir, grpo_inputs, tmp_path):
    params = grpo_params(tiny_model_dir, steps=3)
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(params_as_dict(params)))
    paths = dataclasses.replace(
        grpo_inputs, adapter_dir=tmp_path / "adapter", checkpoint_dir=tmp_path / "checkpoints"
    )
    arguments = [str(path) for path in dataclasses.astuple(paths)]
    repo = Path(__file__).resolve().parents[2]
    killed = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(params_file), "2", *arguments], cwd=repo
    )
    assert killed.returncode == 9
    assert (paths.checkpoint_dir / "checkpoint-1").is_dir() and not paths.adapter_dir.exists()

    start = RecordStart()
    result = train_grpo(params, check_grpo(params, paths), paths, None, [start])
    assert start.start_step == 1  # resumed after step 1 instead of starting over
    assert result.metrics["grpo/steps"] == 3
    assert [row["step"] for row in result.reward_curve] == [1, 2, 3]
    assert (paths.adapter_dir / "adapter_model.safetensors").is_file()
