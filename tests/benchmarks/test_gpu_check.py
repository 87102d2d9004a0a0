"""benchmarks/gpu_check.py: its params stay valid, its traces reach their length, its plan
fits the machine. The GPU run itself is in README.md (Checked on one GPU)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from mathtune.core.params import build_params
from mathtune.curriculum.rows import generate_row

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"
spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
gpu_check = importlib.util.module_from_spec(spec)
sys.modules["gpu_check"] = gpu_check  # its dataclasses look their module up there
spec.loader.exec_module(gpu_check)


@pytest.mark.parametrize("scale", [gpu_check.GPU_SCALE, gpu_check.CPU_SCALE])
def test_every_run_has_valid_params(tmp_path, scale):
    base = gpu_check.base_params(tmp_path / "model", scale)
    for run in gpu_check.plan(scale, gpu=True):
        params = build_params(gpu_check.merge(base, run.params))  # raises ParamsError if not
        assert params.model.local_dir == str(tmp_path / "model")
        assert params.train.max_length == scale.seq_tokens
    assert params.prepare.target == "trace"


def test_lengthened_trace_reaches_about_the_target(embedded_tokenizer):
    trace = generate_row(0, 3)["generations"][0]
    long = gpu_check.lengthen(trace, 1000, embedded_tokenizer)
    tokens = len(embedded_tokenizer(long)["input_ids"])
    assert 900 <= tokens <= 1000
    assert long.endswith(trace.partition("\n</think>")[2])  # the written solution stays last
    assert long.count("</think>") == 1


def test_dry_run_plan_has_no_gpu_only_runs():
    runs = gpu_check.plan(gpu_check.CPU_SCALE, gpu=False)
    assert not any(run.params.get("train", {}).get("liger_kernel") for run in runs)
    assert "train zero2" not in [run.name for run in runs]
    assert [run.name for run in runs][:4] == [
        "prepare", "train padding-free, liger, checkpointing", "grpo", "evaluate"
    ]  # fmt: skip


def test_unknown_run_name_stops_before_any_work(tmp_path):
    command = [sys.executable, str(SCRIPT), "--work", str(tmp_path / "w"), "--only", "nope"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert finished.returncode != 0
    assert "no run named ['nope']" in finished.stderr
    assert "train padded, plain" in finished.stderr  # the names it knows
    assert not (tmp_path / "w").exists()
