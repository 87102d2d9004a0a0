"""End to end: real `dvc repro` and `dvc exp run` of a tiny configuration in a temporary git repo.

The tiny configuration swaps in the two-layer local model and a few dozen synthetic rows;
everything else (DVC, git, Parquet, safetensors, W&B offline) is the real thing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
PROJECT_FILES = [
    "dvc.yaml",
    "params.yaml",
    "stages",
    "mathtune",
    "configs",
    ".gitignore",
    "benchmarks/probe_problems.jsonl",  # prepare decontaminates against these four
    "benchmarks/probe_procedural.jsonl",
    "benchmarks/probe_deepmind.jsonl",
    "benchmarks/probe_reasoning_gym.jsonl",
]

pytestmark = pytest.mark.slow


def run(command: list[str], cwd: Path) -> str:
    environment = os.environ | {
        # the stage commands call `python`: make it this interpreter
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "WANDB_MODE": "offline",
    }
    result = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def tiny_params(model_dir: Path) -> dict:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["prepare"]["synthetic"]["rows"] = 60
    params["model"].update(source="local", local_dir=str(model_dir), precision="fp32")
    params["train"].update(
        max_steps=4, per_device_batch_size=4, save_steps=2, eval_steps=2, logging_steps=1
    )
    params["evaluate"].update(max_samples=4, max_new_tokens=12, batch_size=4)
    params["grpo"].update(
        steps=2, prompts_per_step=2, generations_per_prompt=2, max_completion_length=8, save_steps=1
    )
    return params


@pytest.fixture(scope="module")
def project(tmp_path_factory, tiny_model_dir) -> Path:
    root = tmp_path_factory.mktemp("project")
    for name in PROJECT_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, root / name)
    (root / "params.yaml").write_text(yaml.safe_dump(tiny_params(tiny_model_dir), sort_keys=False))
    run(["git", "init", "-q", "-b", "main"], root)
    run(["git", "config", "user.email", "test@example.com"], root)
    run(["git", "config", "user.name", "test"], root)
    run(["dvc", "init", "-q"], root)
    run(["dvc", "config", "core.analytics", "false"], root)
    run(["dvc", "repro"], root)
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-q", "-m", "tiny run"], root)
    return root


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
        "metrics/prepare.json",
        "metrics/train.json",
        "metrics/eval.json",
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
    assert json.loads((project / "metrics/grpo.json").read_text())["grpo/steps"] == 0
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
    metrics = json.loads((project / "metrics/train.json").read_text())
    assert metrics["train/processes"] == 2
    assert metrics["train/effective_batch"] == 8  # 4 per device x 2 processes
    assert "Running stage 'grpo'" in output
    metrics = json.loads((project / "metrics/grpo.json").read_text())
    assert metrics["grpo/processes"] == 2
    assert metrics["grpo/effective_batch"] == 4  # 2 prompts x 2 generations, whatever the count
