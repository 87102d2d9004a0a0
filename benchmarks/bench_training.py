"""Training throughput: padded vs length-grouped vs padding-free batches, fp32 vs `auto`.

SmolLM2-135M-Instruct (the embedded GGUF) with LoRA r16 on q/k/v/o_proj trains on batches
of 8 examples whose lengths follow an OpenR1-like distribution: prompts of 60-160 tokens
and lognormal targets (median 200, a long tail) cut at 512 tokens in all. A step is what
the Trainer does: collate, forward and backward under the precision's autocast, AdamW step.

Batchings: padded (random order, right-padded), length-grouped (right-padded batches of
the same examples sorted by length, as transformers' group_by_length does within each
megabatch of 50 batches), flattened with a position_ids mask (plain `sdpa`), and
padding-free (flattened + per-example attention, what `train.padding_free: true` uses).
Every configuration trains on the same examples, as one epoch would (sorting only these few
batches, length-grouped pads more than with 50: see its pad share), and they take turns
step by step, so background load on a shared machine hits all of them alike; the figure is
real (non-pad) tokens per second over the measured steps, after a warm-up step.

    python benchmarks/bench_training.py [--rounds 4] [--batch-size 8]

Targets: padding-free >= 1.5x padded; auto >= 1.3x fp32.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import time
from dataclasses import dataclass

import torch

from mathtune.core.params import LoraParams, ModelParams
from mathtune.models.loading import add_lora_adapter, load_base_model, locate_model, resolve_dtype
from mathtune.sft.attention import SEGMENT_ATTENTION
from mathtune.sft.batches import Features, build_collator
from mathtune.sft.examples import IGNORE_INDEX

MAX_LENGTH = 512
LORA = LoraParams(
    r=16, alpha=32, dropout=0.05, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]
)
EMBEDDED = ModelParams(
    source="embedded", hub_id="unused", revision="unused", local_dir=None,
    trust_remote_code=False, precision="auto",
)  # fmt: skip


@dataclass
class Config:
    name: str
    batching: str  # padded | grouped | flattened
    attention: str  # sdpa | SEGMENT_ATTENTION
    dtype: torch.dtype
    tokens: int = 0  # real (non-pad) tokens
    cells: int = 0  # tokens including pads
    seconds: float = 0.0


def make_example(rng: random.Random, vocab_size: int) -> dict[str, list[int]]:
    """Random token ids with an OpenR1-like prompt/target length split; prompt labels masked."""
    prompt = rng.randint(60, 160)
    target = min(int(rng.lognormvariate(5.3, 0.8)), MAX_LENGTH - prompt)  # median e^5.3 = 200
    ids = [rng.randrange(100, vocab_size) for _ in range(prompt + target)]
    return {"input_ids": ids, "labels": [IGNORE_INDEX] * prompt + ids[prompt:]}


def make_batches(
    rng: random.Random, vocab_size: int, batch_size: int, rounds: int
) -> tuple[list[Features], list[Features]]:
    """The same examples batched two ways: in random order, and sorted by length (grouped).

    Every configuration thus trains on exactly the same tokens in all, as in an epoch.
    """
    pool = [make_example(rng, vocab_size) for _ in range(batch_size * rounds)]
    by_length = sorted(pool, key=lambda example: len(example["input_ids"]))
    return _chunk(pool, batch_size), _chunk(by_length, batch_size)


def _chunk(examples: Features, size: int) -> list[Features]:
    return [examples[start : start + size] for start in range(0, len(examples), size)]


def run_step(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    batch: dict[str, torch.Tensor],
    dtype: torch.dtype,
) -> float:
    """One training step (forward, backward, AdamW); returns its seconds."""
    start = time.perf_counter()
    with torch.autocast("cpu", dtype=dtype, enabled=dtype != torch.float32):
        loss = model(**batch).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4, help="measured steps per config")
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    auto = resolve_dtype("auto")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, auto = {auto}")
    print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
    model = add_lora_adapter(load_base_model(locate_model(EMBEDDED)), LORA)
    model.config.use_cache = False  # so position_ids mark the flattened sequences
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4)
    rng = random.Random(0)
    vocab_size = model.config.vocab_size
    random_batches, grouped = make_batches(rng, vocab_size, args.batch_size, args.rounds)
    warm_up = [make_example(rng, vocab_size) for _ in range(2)]
    configs = [
        Config("padded, auto", "padded", "sdpa", auto),
        Config("length-grouped, auto", "grouped", "sdpa", auto),
        Config("flattened+mask, auto", "flattened", "sdpa", auto),
        Config("padding-free, auto", "flattened", SEGMENT_ATTENTION, auto),
        Config("padding-free, fp32", "flattened", SEGMENT_ATTENTION, torch.float32),
    ]
    for config in configs:  # first calls allocate buffers and fill autocast caches
        model.set_attn_implementation(config.attention)
        run_step(model, optimizer, collate(config, warm_up), config.dtype)
    for index in range(args.rounds):
        for config in configs:
            examples = grouped[index] if config.batching == "grouped" else random_batches[index]
            batch = collate(config, examples)
            model.set_attn_implementation(config.attention)
            config.seconds += run_step(model, optimizer, batch, config.dtype)
            config.tokens += sum(len(example["input_ids"]) for example in examples)
            config.cells += batch["input_ids"].numel()
        print(f"round {index + 1}/{args.rounds} done", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    report(configs)


def collate(config: Config, examples: Features) -> dict[str, torch.Tensor]:
    return build_collator(0, padding_free=config.batching == "flattened")(examples)


def report(configs: list[Config]) -> None:
    rates = {config.name: config.tokens / config.seconds for config in configs}
    print(f"\n{'configuration':<24} {'real tokens/s':>14} {'pad share':>10} {'seconds':>8}")
    for config in configs:
        pads = 1 - config.tokens / config.cells
        print(f"{config.name:<24} {rates[config.name]:>14.1f} {pads:>10.0%} {config.seconds:>8.1f}")
    free, padded = rates["padding-free, auto"], rates["padded, auto"]
    print(f"\npadding-free / padded          {free / padded:.2f}x (target >= 1.5x)")
    print(f"padding-free / length-grouped  {free / rates['length-grouped, auto']:.2f}x")
    print(
        f"auto / fp32 (padding-free)     {free / rates['padding-free, fp32']:.2f}x (target >= 1.3x)"
    )


if __name__ == "__main__":
    main()
