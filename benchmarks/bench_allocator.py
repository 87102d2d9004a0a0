"""Training steps under each memory allocator (launch.allocator): glibc malloc vs mimalloc.

Runs the same padding-free LoRA training steps twice, each in a fresh process started as
dvc.yaml starts a stage (`python -m mathtune.core.launch --allocator ...`): the embedded
SmolLM2-135M-Instruct, LoRA as params.yaml `train.lora`, batches of 4 examples with
OpenR1-like lengths (bench_training.py's), the precision `auto` picks. Every step has new
shapes, as in training. Prints seconds per step at the start and the end of the run, the
share of the steps' CPU time spent in the kernel (page faults, for one) and the peak
resident memory.

    python benchmarks/bench_allocator.py [--steps 30]

Target: mimalloc >= 1.2x glibc over the run, with the same trained weights.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys

import torch
from bench_training import make_example, run_step

from mathtune.core.params import load_params
from mathtune.models.loading import add_lora_adapter, load_base_model, locate_model, resolve_dtype
from mathtune.sft.attention import SEGMENT_ATTENTION
from mathtune.sft.batches import build_collator

ALLOCATORS = ("system", "mimalloc")
BATCH_SIZE = 4  # ~1,300 tokens, about a train-stage step of 8 curriculum examples
EDGE_STEPS = 5  # steps averaged for the start and the end figures


def measure(steps: int) -> dict:
    """Train `steps` steps in this process: seconds per step, CPU use, trained weights."""
    params = load_params()
    torch.manual_seed(0)  # the same LoRA initialisation in both processes
    model = add_lora_adapter(load_base_model(locate_model(params.model)), params.train.lora)
    model.config.use_cache = False  # so position_ids mark the flattened sequences
    model.set_attn_implementation(SEGMENT_ATTENTION)
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4)
    collate, dtype = build_collator(0, padding_free=True), resolve_dtype("auto")
    rng = random.Random(0)
    seconds, before = [], resource.getrusage(resource.RUSAGE_SELF)
    for _ in range(steps):
        batch = collate([make_example(rng, model.config.vocab_size) for _ in range(BATCH_SIZE)])
        seconds.append(run_step(model, optimizer, batch, dtype))
    trained = [p for p in model.parameters() if p.requires_grad]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    kernel, user = usage.ru_stime - before.ru_stime, usage.ru_utime - before.ru_utime
    return {
        "start_s": sum(seconds[1 : 1 + EDGE_STEPS]) / EDGE_STEPS,  # step 0 fills caches
        "end_s": sum(seconds[-EDGE_STEPS:]) / EDGE_STEPS,
        "total_s": sum(seconds),
        "kernel_share": kernel / (kernel + user),  # of the CPU time the steps took
        "peak_rss_gb": usage.ru_maxrss / 2**20,
        "weights_checksum": sum(p.double().sum().item() for p in trained),
    }


def run_under(allocator: str, steps: int) -> dict:
    """`measure` in a process launched with `allocator`, as dvc.yaml launches a stage."""
    command = [
        sys.executable,
        "-m",
        "mathtune.core.launch",
        "--processes",
        "1",
        "--strategy",
        "ddp",
    ]
    command += ["--allocator", allocator, "--", __file__, "--child", "--steps", str(steps)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="training steps per allocator")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.steps)))
        return
    results = {}
    for allocator in ALLOCATORS:
        print(f"{allocator}: {args.steps} steps ...", flush=True)
        results[allocator] = run_under(allocator, args.steps)
    print(
        f"\n{'allocator':<10} {'s/step start':>12} {'s/step end':>10} {'total s':>8} "
        f"{'kernel CPU':>10} {'peak RSS':>9}"
    )
    for allocator, figures in results.items():
        print(
            f"{allocator:<10} {figures['start_s']:>12.2f} {figures['end_s']:>10.2f} "
            f"{figures['total_s']:>8.1f} {figures['kernel_share']:>10.0%} "
            f"{figures['peak_rss_gb']:>7.1f} GB"
        )
    speedup = results["system"]["total_s"] / results["mimalloc"]["total_s"]
    same = results["system"]["weights_checksum"] == results["mimalloc"]["weights_checksum"]
    print(f"\nmimalloc / system: {speedup:.2f}x (target >= 1.2x); same weights: {same}")


if __name__ == "__main__":
    main()
