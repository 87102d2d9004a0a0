"""End to end: real `dvc repro` and `dvc exp run` of a tiny configuration in a temporary git repo.

The tiny configuration swaps in the two-layer local model and a few dozen synthetic rows;
everything else (DVC, git, Parquet, safetensors, W&B offline) is the real thing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import copy_project
from conftest import run_command as run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(tiny_project, tmp_path_factory) -> Path:
    """A copy of the tiny project for these tests, which change its workspace."""
    return copy_project(tiny_project, tmp_path_factory.mktemp("pipeline") / "project")


def test_repro_writes_every_output(project):
    for path in [
        "data/prepared/train.parquet",
        "data/prepared/validation.parquet",
        "data/prepared/heldout.parquet",
        "data/prepared/stats.json",
        "models/adapter/adapter_model.safetensors",
        "models/adapter/adapter_config.json",
        "models/grpo_adapter/adapter_model.safetensors",
        "models/grpo_adapter/adapter_config.json",
        "metrics/grpo.json",
        "plots/grpo_reward.csv",
        "reports/prepare.json",
        "metrics/train.json",
        "reports/train.json",
        "reports/grpo.json",
        "metrics/eval.json",
        "reports/eval.json",
        "data/prepared/heldout.parquet",
        "data/eval/predictions.parquet",
        "reports/eval_breakdown.json",
        "plots/train_loss.csv",
        "plots/train_loss.png",
        "plots/eval_accuracy.csv",
        "plots/eval_accuracy.png",
        "plots/eval_families.png",
        "dvc.lock",
    ]:
        assert (project / path).is_file(), path
    assert not (project / "checkpoints" / "train").exists(), "checkpoints removed after success"
    assert not (project / "checkpoints" / "grpo").exists()
    assert list((project / "wandb").glob("offline-run-*")), "W&B offline runs were written"


def test_second_repro_has_nothing_to_do(project):
    output = run(["dvc", "repro"], project)
    assert "Data and pipelines are up to date" in output
    assert run(["git", "status", "--porcelain"], project) == ""


def test_exp_run_with_new_lr_reruns_train_grpo_and_evaluate(project):
    output = run(["dvc", "exp", "run", "-S", "train.lr=1e-6"], project)
    assert "Stage 'prepare' didn't change, skipping" in output
    assert "Running stage 'train'" in output
    assert "Running stage 'grpo'" in output
    assert "Running stage 'evaluate'" in output
    diff = json.loads(run(["dvc", "metrics", "diff", "--json"], project))
    assert "metrics/train.json" in diff, "train metrics changed with the learning rate"
    experiments = json.loads(run(["dvc", "exp", "show", "--json"], project))
    assert "1e-06" in json.dumps(experiments) or "1e-6" in json.dumps(experiments)


def test_exp_run_with_rl_off_copies_the_sft_adapter(project):
    output = run(["dvc", "exp", "run", "-S", "grpo.enabled=false"], project)
    assert "Stage 'train' didn't change, skipping" in output
    assert "Running stage 'grpo'" in output
    assert json.loads((project / "reports/grpo.json").read_text())["grpo/steps"] == 0
    for name in ("adapter_model.safetensors", "adapter_config.json"):
        sft = (project / "models/adapter" / name).read_bytes()
        assert (project / "models/grpo_adapter" / name).read_bytes() == sft
    # The copy is evaluated once, as sft: no grpo figures that only repeat sft's.
    evaluated = json.loads((project / "metrics/eval.json").read_text())
    assert any(key.startswith("eval/sft/") for key in evaluated)
    assert not any(key.startswith("eval/grpo/") for key in evaluated)


def test_exp_run_with_two_processes_launches_train_and_grpo_on_two(project):
    # grpo.enabled as well: the workspace keeps the params of the experiments run before.
    command = ["dvc", "exp", "run", "-S", "launch.num_processes=2", "-S", "grpo.enabled=true"]
    output = run(command, project)
    assert (
        "python -m mathtune.core.launch --processes 2 --strategy ddp --allocator mimalloc" in output
    )
    assert "accelerate.commands.launch --config_file configs/accelerate/ddp.yaml" in output
    assert "process 1 of 2" in output and "process 0 of 2" in output
    metrics = json.loads((project / "reports/train.json").read_text())
    assert metrics["train/processes"] == 2
    assert metrics["train/effective_batch"] == 8  # 4 per device x 2 processes
    assert "Running stage 'grpo'" in output
    metrics = json.loads((project / "reports/grpo.json").read_text())
    assert metrics["grpo/processes"] == 2
    assert metrics["grpo/effective_batch"] == 4  # 2 prompts x 2 generations, whatever the count
