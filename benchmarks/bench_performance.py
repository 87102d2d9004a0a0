"""All performance figures in one run: training, generation and prepare, one after another.

Each benchmark runs in its own process (so one's memory does not count against another's
peak) on an otherwise idle machine; run nothing else meanwhile, or the figures mean little.

    python benchmarks/bench_performance.py      # or: make bench

Targets (issue 5), as ratios measured in this one run:
- padding-free training >= 1.5x the real tokens/s of padded batches;
- auto precision >= 1.3x fp32;
- batched greedy generation >= 8x batch 1;
- prepare of a 94k-row OpenR1-shaped Parquet file under 2 GB peak memory.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import torch

from mathtune.models.loading import resolve_dtype

BENCHMARKS = Path(__file__).resolve().parent
SCRIPTS = ["bench_training.py", "bench_generation.py", "bench_prepare.py"]


def cpu_name() -> str:
    """The CPU model as Linux reports it, else what platform knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def main() -> None:
    print(f"machine: {cpu_name()}, {platform.machine()}, {os.cpu_count()} cores")
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "none"
    print(f"gpu: {gpu}; model.precision auto here = {resolve_dtype('auto')}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for script in SCRIPTS:
        print(f"\n=== {script}", flush=True)
        subprocess.run([sys.executable, str(BENCHMARKS / script)], check=True)


if __name__ == "__main__":
    main()
