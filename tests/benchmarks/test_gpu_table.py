"""benchmarks/gpu_table.py: the GPU tables come from the results file, and the committed ones
are the ones it gives."""

from __future__ import annotations

import doctest
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_table.py"
spec = importlib.util.spec_from_file_location("gpu_table", SCRIPT)
gpu_table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpu_table)


def train(name: str, tokens_per_s: float, peak: float, tokens: int) -> dict:
    return {
        "name": name, "rc": 0, "train/real_tokens_per_s": tokens_per_s, "mfu": 0.31,
        "peak_gpu_gib": peak, "train/tokens_seen": 12 * tokens, "train/steps": 12,
    }  # fmt: skip


RECORD = {
    "environment": {
        "device": "NVIDIA H100 80GB HBM3",
        "gpu_memory_gib": 79.2,
        "date": "2026-12-05",
        "versions": {"torch": "2.11.0", "liger-kernel": "0.8.5"},
        "peak_tflops": 750.0,
    },  # fmt: skip
    "model": {"mean_trace_tokens": 2970.0},
    "checks": {
        "kernel": "varlen",
        "batch_tokens": 11000,
        "other_traces_bit_identical": True,
        "loss": 11.93312,
        "loss_segments": 11.93298,
        "loss_equal_to_3_decimals": True,
    },  # fmt: skip
    "runs": [
        train("train segments, liger", 14_000, 80.0, 47_000),
        train("train varlen, liger", 61_000, 83.0, 47_000),
        train("train varlen, liger, 32768 tokens", 58_000, 58.0, 32_000),
        {"name": "grpo", "rc": 0, "grpo/completions_per_s": 9.5},
        {"name": "train zero2", "rc": 124},
    ],
}


def test_doctests_pass():
    assert doctest.testmod(gpu_table).failed == 0


def test_the_table_names_device_versions_and_date_and_sorts_the_fastest_first():
    table = gpu_table.render(RECORD)
    assert "one NVIDIA H100 80GB HBM3 (79.2 GiB), 2026-12-05; torch 2.11.0" in table
    rows = [line for line in table.splitlines() if line.startswith("| ")][2:]
    assert rows[0] == "| varlen, liger | 61,000 | 31.0% | 83.0 | 47,000 |"
    assert rows[-1] == "| train zero2 | failed (rc 124) | | | |"
    assert "bit-identical: yes" in table
    assert "grpo: 9.5 completions/s" in table
    # peaks 58 GiB at 32k and 83 at 47k tokens: 72 GiB (90% of 80) at 40.4k, 39 x 1,024
    assert "without checkpointing" in table and "train.batch_tokens ~ 39,936" in table


def test_without_a_gpu_run_the_table_says_so():
    assert "No GPU run" in gpu_table.render(None)
    dry_run = RECORD | {"environment": RECORD["environment"] | {"device": "cpu (dry run)"}}
    assert "No GPU run" in gpu_table.render(dry_run)


def test_committed_tables_are_the_ones_the_results_give():
    finished = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 0, finished.stderr


def test_a_file_without_markers_is_refused_naming_the_fix(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("no table here\n")
    with pytest.raises(SystemExit, match="no <!-- gpu-table"):
        gpu_table.replace_between_markers(page.read_text(), "x", page)
