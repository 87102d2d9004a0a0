"""Benchmark: greedy generation tokens/s at batch size 1 vs batched, with the embedded model.

Loads SmolLM2-135M-Instruct (model.source embedded) once, as the evaluate stage does, and
generates chat prompts of synthetic problems with `generate_batched`: a few prompts one at
a time, then a full batch. Only tokens a model really generated count (stop token
included, padding after a stop excluded). Target: batched >= 8x the batch-1 throughput.
Takes about a minute and a half on 2 idle CPU cores (other processes slow it many-fold).

    .venv/bin/python benchmarks/bench_generation.py
    .venv/bin/python benchmarks/bench_generation.py --precision fp32 --batch-size 16
"""

from __future__ import annotations

import argparse
import time

import torch

from mathtune.core.params import ModelParams
from mathtune.curriculum.rows import generate_row
from mathtune.models.generation import (
    Decoding,
    Generation,
    generate_batched,
    prepare_for_generation,
)
from mathtune.models.loading import load_base_model, load_tokenizer, locate_model
from mathtune.models.prompts import format_prompt

TARGET_SPEEDUP = 8.0
EMBEDDED = ModelParams(
    source="embedded",
    hub_id="unused",
    revision="unused",
    local_dir=None,
    trust_remote_code=False,
    precision="auto",
)


def time_generation(run) -> tuple[list[Generation], float]:
    start = time.perf_counter()
    generations = run()
    return generations, time.perf_counter() - start


def report(label: str, generations: list[Generation], seconds: float) -> float:
    tokens = sum(generation.generated_tokens for generation in generations)
    truncated = sum(generation.truncated for generation in generations)
    rate = tokens / seconds
    print(
        f"{label:<10} prompts={len(generations):>3}  tokens={tokens:>5}  seconds={seconds:6.1f}  "
        f"tokens/s={rate:7.1f}  truncated={truncated}"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp16", "fp32"])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--single-prompts", type=int, default=4, help="prompts run at batch 1")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    args = parser.parse_args()

    location = locate_model(EMBEDDED)
    tokenizer = load_tokenizer(location)
    model = prepare_for_generation(load_base_model(location), args.precision)
    problems = [generate_row(seed=0, index=index)["problem"] for index in range(args.batch_size)]
    prompts = [format_prompt(tokenizer, problem) for problem in problems]
    print(
        f"model={location.description}  dtype={model.dtype}  threads={torch.get_num_threads()}  "
        f"max_new_tokens={args.max_new_tokens}"
    )
    generate_batched(model, tokenizer, prompts[:2], Decoding(8), batch_size=2)  # warm-up, not timed

    decoding = Decoding(args.max_new_tokens)
    single, single_seconds = time_generation(
        lambda: generate_batched(
            model, tokenizer, prompts[: args.single_prompts], decoding, batch_size=1
        )
    )
    batched, batched_seconds = time_generation(
        lambda: generate_batched(model, tokenizer, prompts, decoding, batch_size=args.batch_size)
    )
    single_rate = report("batch 1", single, single_seconds)
    batched_rate = report(f"batch {args.batch_size}", batched, batched_seconds)
    speedup = batched_rate / single_rate
    verdict = "meets" if speedup >= TARGET_SPEEDUP else "misses"
    print(f"speedup={speedup:.1f}x ({verdict} the {TARGET_SPEEDUP:.0f}x target)")
    same = sum(a == b for a, b in zip(single, batched, strict=False))
    print(f"batch-1 and batched texts identical for {same}/{len(single)} prompts")


if __name__ == "__main__":
    main()
