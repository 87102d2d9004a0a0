"""benchmarks/gpu_check.py: its params stay valid, its traces reach their length, its plan
fits the machine, its FLOP count is sound. Its GPU figures are in docs/gpu.md."""

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
    assert not any(run.params.get("train", {}).get("attention") == "varlen" for run in runs)
    assert [run.name for run in runs][:5] == [
        "prepare", "train varlen, liger", "grpo", "grpo, micro-batches of 4", "evaluate"
    ]  # fmt: skip


def test_gpu_plan_compares_the_kernels_and_measures_token_budgets():
    runs = {run.name: run for run in gpu_check.plan(gpu_check.GPU_SCALE, gpu=True)}
    assert runs["train varlen, liger"].params["train"]["attention"] == "varlen"
    assert runs["train segments, liger"].params["train"]["attention"] == "segments"
    budgets = [run.params.get("train", {}).get("batch_tokens") for run in runs.values()]
    assert sorted(filter(None, budgets)) == [32_768, 49_152, 131_072]


def test_flops_per_token_of_qwen_05b_are_about_four_times_its_weights():
    flops = gpu_check.flops_per_token(gpu_check.QWEN_05B, mean_length=3000)
    # 494M weights in matrix products (the tied embedding as the output projection): 4 x 494M
    # = 1.98 GFLOP, plus causal attention over 3k tokens: 6 x 24 layers x 896 x 3000 = 0.39.
    assert flops == pytest.approx(2.363e9, rel=1e-3)


def test_unknown_run_name_stops_before_any_work(tmp_path):
    command = [sys.executable, str(SCRIPT), "--work", str(tmp_path / "w"), "--only", "nope"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert finished.returncode != 0
    assert "no run named ['nope']" in finished.stderr
    assert "train segments, liger" in finished.stderr  # the names it knows
    assert not (tmp_path / "w").exists()
