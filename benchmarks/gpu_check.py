"""The GPU paths end to end: every stage on one GPU with a Qwen2.5-0.5B-shaped model.

No hub is needed. The model has Qwen2.5-0.5B's architecture (QWEN_05B below) and random
weights, saved as a local model (`model.source: local`) with the embedded model's tokenizer
(or --tokenizer). The data are curriculum rows whose reasoning traces are lengthened to
0.5-0.95 x --seq-tokens tokens (`prepare.source: local`, `target: trace`). Random weights
learn nothing and never stop generating, so the figures are speed and memory, not accuracy.

First, in this process, on one flattened batch of traces:
- the peak bf16 matrix-product rate of the GPU (timed), the denominator of MFU;
- the attention check: changing one trace leaves the other traces' logits bit-identical;
- the loss check: the loss of the batch under the chosen kernel (varlen on a GPU) equals
  the per-example path's (segments) to three decimals.

Then every stage runs its real script as its own process, from a scratch folder holding
its own params.yaml, through this file's `run-stage` wrapper, which records the process's
peak GPU memory. In order:
1. prepare the long-trace rows;
2. train under `accelerate launch` (one process) in setups that differ in attention kernel
   (train.attention), Liger kernels, gradient checkpointing and a token budget per batch
   (train.batch_tokens), then under the fsdp and zero2 accelerate configs (zero2 only where
   DeepSpeed is installed);
3. grpo from the first setup's adapter, transformers backend, its completions trained in
   one pass and in micro-batches (grpo.micro_batch), generated in one call either way;
4. evaluate base, SFT and GRPO on the splits and on MATH-500- and GSM8K-shaped local files.
Each train run gets its MFU: real tokens/s x FLOPs per token / the timed peak. It prints one
line per run and writes everything, with device, versions and date, as JSON to --results
(benchmarks/results/gpu_check.json on a GPU); `benchmarks/gpu_table.py` turns that file
into the tables of README.md and docs/gpu.md. On a machine without a GPU it runs a tiny
model of the same family at short lengths, without Liger, varlen and DeepSpeed, and writes
benchmarks/results/gpu_check_cpu_dry_run.json: a dry run.

    python benchmarks/gpu_check.py [--work /tmp/gpu_check] [--results FILE] [--tokenizer DIR]
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import random
import resource
import runpy
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import torch
import yaml

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
LINKED = ["stages", "configs", "benchmarks"]  # what the stages read relative to the repo root

# Qwen/Qwen2.5-0.5B's config.json, less what transformers fills in.
QWEN_05B = {
    "hidden_size": 896,
    "intermediate_size": 4864,
    "num_hidden_layers": 24,
    "num_attention_heads": 14,
    "num_key_value_heads": 2,
    "vocab_size": 151936,
    "max_position_embeddings": 32768,
    "rope_theta": 1000000.0,
    "rms_norm_eps": 1e-6,
    "tie_word_embeddings": True,
}
# The same family at toy size, for the dry run on CPU.
QWEN_TINY = QWEN_05B | {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
}


@dataclass
class Scale:
    """Sizes of the check: the GPU's and the CPU dry run's."""

    shape: dict
    seq_tokens: int
    rows: int
    train_steps: int
    batch_size: int
    grpo_steps: int
    grpo_prompts: int
    generations: int
    completion_tokens: int
    eval_samples: int
    new_tokens: int


# Sized so that the whole check fits a device session of about 8 minutes (--only trims it).
GPU_SCALE = Scale(QWEN_05B, 4096, 240, 8, 8, 2, 4, 8, 256, 16, 64)
CPU_SCALE = Scale(QWEN_TINY, 256, 120, 3, 2, 1, 2, 2, 16, 4, 8)
# Traces a step where Liger's fused cross-entropy keeps the logits out of memory: 16 of
# 2k-3.9k tokens took 83 GiB with varlen on an H200 (the bench); without Liger, 8.
LIGER_BATCH = 16
# Token budgets per batch (train.batch_tokens), without and with gradient checkpointing:
# the peak memory of these runs is what sets the budget that fits an 80 GB GPU.
TOKEN_BUDGETS = {False: [32_768, 49_152], True: [131_072]}


TRAIN_KEYS = [
    "train/real_tokens_per_s", "train/loss", "eval/loss", "train/truncated_examples",
    "train/tokens_seen", "train/steps",
]  # fmt: skip
GRPO_KEYS = ["grpo/completions_per_s", "grpo/s_per_step", "grpo/mean_completion_length"]
EVAL_KEYS = ["eval/sft/seen/accuracy", "eval/sft/mean_generated_tokens", "eval/sft/math500/pass@1"]


@dataclass
class Run:
    """One stage process and what it reported."""

    name: str
    stage: str
    arguments: list[str]
    metrics: str  # the stage's report JSON, relative to the scratch folder
    keys: list[str]  # the figures to report from it
    params: dict = field(default_factory=dict)  # overrides of the base params, by section
    accelerate: str | None = None  # accelerate config (strategy), or None for plain python
    timeout_s: int = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/gpu_check"))
    parser.add_argument("--results", type=Path, default=None, help="JSON file of the figures")
    parser.add_argument("--tokenizer", type=Path, default=None, help="default: embedded model's")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        help="run only these runs, by name (prepare always runs; grpo needs the first train "
        "run, evaluate the grpo run)",
    )
    args = parser.parse_args()
    gpu = torch.cuda.is_available()
    scale = GPU_SCALE if gpu else CPU_SCALE
    runs = plan(scale, gpu)
    if args.only:
        unknown = set(args.only) - {run.name for run in runs}
        if unknown:
            sys.exit(f"--only: no run named {sorted(unknown)}; the runs: {[r.name for r in runs]}")
        runs = [run for run in runs if run.name == "prepare" or run.name in args.only]
    results_file = args.results or RESULTS / (
        "gpu_check.json" if gpu else "gpu_check_cpu_dry_run.json"
    )
    environment = describe_environment()
    print(json.dumps(environment), flush=True)
    shutil.rmtree(args.work, ignore_errors=True)
    scratch = make_scratch(args.work)
    model_dir = build_model(args.work / "model", scale.shape, args.tokenizer)
    mean_length = write_long_trace_rows(scratch / "rows.parquet", model_dir, scale)
    write_benchmark_files(scratch)
    environment["peak_tflops"] = round(peak_matmul_flops() / 1e12, 1)
    checks = kernel_checks(model_dir, scratch / "rows.parquet", scale)
    print(json.dumps(checks), flush=True)
    flops = flops_per_token(scale.shape, mean_length)
    base = base_params(model_dir, scale)
    results = []
    for run in runs:
        result = execute(run, scratch, base)
        if "train/real_tokens_per_s" in result:
            result["mfu"] = round(
                result["train/real_tokens_per_s"] * flops / (environment["peak_tflops"] * 1e12), 4
            )
        results.append(result)
        print(format_result(result), flush=True)
    failed = [result["name"] for result in results if result["rc"] != 0]
    print("failed:", ", ".join(failed) if failed else "none")
    record = {
        "environment": environment,
        "model": {"shape": scale.shape, "mean_trace_tokens": mean_length},
        "flops_per_token": flops,
        "checks": checks,
        "runs": results,
    }
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {results_file}")


def describe_environment() -> dict:
    """Device, package versions and date: what the figures were measured on."""
    versions = {}
    for package in [
        "torch",
        "transformers",
        "peft",
        "accelerate",
        "trl",
        "liger-kernel",
        "deepspeed",
    ]:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "missing"
    gpu = torch.cuda.is_available()
    return {
        "device": torch.cuda.get_device_name() if gpu else "cpu (dry run)",
        "gpu_memory_gib": round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1)
        if gpu
        else None,
        "cuda": torch.version.cuda,
        "versions": versions,
        "date": datetime.date.today().isoformat(),
    }


def peak_matmul_flops() -> float:
    """FLOP/s of a large matrix product, timed: bf16 on a GPU, float32 on a CPU."""
    gpu = torch.cuda.is_available()
    size, dtype = (8192, torch.bfloat16) if gpu else (1024, torch.float32)
    a, b = (torch.randn(size, size, device=DEVICE, dtype=dtype) for _ in range(2))
    times = []
    for _ in range(8):
        if gpu:
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(10):
            a @ b
        if gpu:
            torch.cuda.synchronize()
        times.append((time.perf_counter() - start) / 10)
    return 2 * size**3 / min(times[2:])  # the first products warm the kernels up


def flops_per_token(shape: dict, mean_length: float) -> float:
    """Model FLOPs of one trained token of LoRA fine-tuning.

    Matrix products: 2 FLOPs per weight forward and 2 backward for the activations' gradient
    (the frozen weights get none; LoRA's own are negligible), with the output projection
    over the vocabulary. Causal attention: 2 x hidden x length per layer forward (scores
    and weighted values, half the positions on average), three times that with backward.
    Recomputation by gradient checkpointing is not counted: MFU stays comparable.
    """
    hidden, layers = shape["hidden_size"], shape["num_hidden_layers"]
    kv = hidden * shape["num_key_value_heads"] // shape["num_attention_heads"]
    per_layer = (
        hidden * (hidden + 2 * kv) + hidden * hidden + 3 * hidden * shape["intermediate_size"]
    )
    weights = layers * per_layer + hidden * shape["vocab_size"]
    return 4 * weights + 3 * 2 * layers * hidden * mean_length


def kernel_checks(model_dir: Path, rows: Path, scale: Scale) -> dict:
    """The attention and loss checks on one flattened batch of four long-trace rows."""
    from transformers import AutoModelForCausalLM

    from mathtune.sft.attention import choose_attention

    gpu = torch.cuda.is_available()
    chosen = choose_attention("auto", padding_free=True)
    features = check_batch(model_dir, rows, scale)
    changed = [dict(feature) for feature in features]
    vocab = scale.shape["vocab_size"]
    changed[1]["input_ids"] = [(token + 1) % vocab for token in changed[1]["input_ids"]]
    dtype = torch.bfloat16 if gpu else torch.float32
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype).to(DEVICE).eval()
    model.config.use_cache = False
    first = forward(model, features, chosen)
    second = forward(model, changed, chosen).logits[0]
    per_example = float(forward(model, features, "segments").loss)
    lengths = [len(feature["input_ids"]) for feature in features]
    a, b = lengths[0], lengths[0] + lengths[1]
    logits = first.logits[0]
    others = torch.equal(logits[:a], second[:a]) and torch.equal(logits[b:], second[b:])
    if gpu:
        torch.cuda.empty_cache()
    return {
        "kernel": chosen,
        "batch_tokens": sum(lengths),
        "other_traces_bit_identical": others,
        "loss": round(float(first.loss), 5),
        "loss_segments": round(per_example, 5),
        "loss_equal_to_3_decimals": round(float(first.loss), 3) == round(per_example, 3),
    }


def check_batch(model_dir: Path, rows: Path, scale: Scale) -> list[dict]:
    """Four rows tokenized as the train stage tokenizes them (problem + trace)."""
    from transformers import AutoTokenizer

    from mathtune.sft.examples import tokenize_examples

    table = pq.read_table(rows).slice(0, 4).to_pylist()
    examples = tokenize_examples(
        AutoTokenizer.from_pretrained(model_dir),
        [row["problem"] for row in table],
        [row["generations"][0] for row in table],
        [row["answer"] for row in table],
        max_length=scale.seq_tokens,
    )
    return [{"input_ids": e.input_ids, "labels": e.labels} for e in examples]


def forward(model, batch: list[dict], kernel: str):
    """The model's output on `batch` flattened, attention by `kernel` (train.attention)."""
    from mathtune.sft.attention import KERNELS
    from mathtune.sft.batches import build_collator

    model.set_attn_implementation(KERNELS[kernel])
    collated = build_collator(pad_token_id=0, padding_free=True)(batch)
    inputs = {k: v.to(DEVICE) if torch.is_tensor(v) else v for k, v in collated.items()}
    with torch.no_grad():
        return model(**inputs)


def make_scratch(work: Path) -> Path:
    """A folder the stages run in: links to the repository's code, its own params and data."""
    scratch = work / "repo"
    scratch.mkdir(parents=True)
    for name in LINKED:
        (scratch / name).symlink_to(REPO / name)
    return scratch


def build_model(model_dir: Path, shape: dict, tokenizer_dir: Path | None) -> Path:
    """A random-weight Qwen2 model of `shape`, saved in bf16 with a tokenizer."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, Qwen2Config

    from mathtune.core.params import ModelParams
    from mathtune.models.loading import load_tokenizer, locate_model

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(Qwen2Config(**shape), dtype=torch.bfloat16)
    model.save_pretrained(model_dir)
    if tokenizer_dir:
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    else:
        embedded = ModelParams(
            source="embedded", hub_id="unused", revision="unused", local_dir=None,
            trust_remote_code=False, precision="auto",
        )  # fmt: skip
        tokenizer = load_tokenizer(locate_model(embedded))
    tokenizer.save_pretrained(model_dir)
    parameters = sum(parameter.numel() for parameter in model.parameters())
    print(f"model: Qwen2, {parameters / 1e6:.0f}M parameters, random weights, in {model_dir}")
    return model_dir


def write_long_trace_rows(path: Path, model_dir: Path, scale: Scale) -> float:
    """Curriculum rows whose correct traces are padded with re-checks to 0.5-0.95 x
    seq_tokens tokens, so that batches mix lengths as real reasoning traces do.
    Returns the mean length the traces were padded to."""
    from transformers import AutoTokenizer

    from mathtune.core.schema import OPENR1_SCHEMA
    from mathtune.curriculum.rows import generate_row

    # Reloaded from the model folder, as the stages load it: the in-memory GGUF tokenizer
    # counts some traces differently.
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    rng = random.Random(0)
    rows, targets = [], []
    for index in range(scale.rows):
        row = generate_row(0, index)
        target = int(scale.seq_tokens * rng.uniform(0.5, 0.95))
        targets.append(target)
        row["generations"] = [
            lengthen(trace, target, tokenizer) if correct else trace
            for trace, correct in zip(
                row["generations"], row["correctness_math_verify"], strict=True
            )
        ]
        rows.append(row)
    pq.write_table(pa.Table.from_pylist(rows, schema=OPENR1_SCHEMA), path)
    return round(statistics.mean(targets), 1)


def lengthen(trace: str, tokens: int, tokenizer) -> str:
    """The trace with its thought repeated as re-checks until it is about `tokens` long."""
    head, closing, tail = trace.partition("\n</think>")
    recheck = " Let me check that again. " + head.removeprefix("<think>\n")
    missing = tokens - len(tokenizer(trace)["input_ids"])
    repeats = max(0, missing) // len(tokenizer(recheck)["input_ids"])
    return head + recheck * repeats + closing + tail


def write_benchmark_files(scratch: Path) -> None:
    """Eight MATH-500-shaped and eight GSM8K-shaped problems as local benchmark files."""
    math500 = [
        {
            "problem": f"What is ${a} \\cdot {b}$?",
            "answer": str(a * b),
            "subject": ["Prealgebra", "Algebra"][a % 2],
            "level": 1 + a % 5,
            "unique_id": f"test/gpu_check/{a}.json",
        }
        for a, b in zip(range(3, 11), range(12, 20), strict=True)
    ]
    gsm8k = [
        {
            "question": f"Ann has {a} pens and buys {a + 5} more. How many pens has she?",
            "answer": f"{a} + {a + 5} = <<{a}+{a + 5}={2 * a + 5}>>{2 * a + 5}\n#### {2 * a + 5}",
        }
        for a in range(4, 12)
    ]
    for name, rows in [("math500.jsonl", math500), ("gsm8k.jsonl", gsm8k)]:
        (scratch / name).write_text("".join(json.dumps(row) + "\n" for row in rows))


def base_params(model_dir: Path, scale: Scale) -> dict:
    """The repository's params.yaml with the local model, long traces and GPU-sized runs."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    overrides = {
        "prepare": {"source": "local", "local_files": ["rows.parquet"], "target": "trace"},
        "model": {"source": "local", "local_dir": str(model_dir), "precision": "auto"},
        "train": {
            "max_steps": scale.train_steps,
            "max_length": scale.seq_tokens,
            "per_device_batch_size": scale.batch_size,
            "eval_steps": scale.train_steps,
            "save_steps": max(1, scale.train_steps // 2),
            "logging_steps": 1,
            "lora": params["train"]["lora"] | {"dropout": 0.0},
        },
        "grpo": {
            "steps": scale.grpo_steps,
            "prompts_per_step": scale.grpo_prompts,
            "generations_per_prompt": scale.generations,
            "max_completion_length": scale.completion_tokens,
            "save_steps": scale.grpo_steps,
            "gradient_checkpointing": True,
        },
        "evaluate": {
            "max_samples": scale.eval_samples,
            "max_new_tokens": scale.new_tokens,
            "benchmarks": params["evaluate"]["benchmarks"]
            | {
                "math500": params["evaluate"]["benchmarks"]["math500"]
                | {"source": "local", "local_files": ["math500.jsonl"]},
                "gsm8k": params["evaluate"]["benchmarks"]["gsm8k"]
                | {"source": "local", "local_files": ["gsm8k.jsonl"]},
                "max_new_tokens": scale.new_tokens,
                "samples": 2,
            },
        },
        "wandb": {"mode": "offline"},
    }
    return merge(params, overrides)


def merge(params: dict, overrides: dict) -> dict:
    """`params` with each section's keys replaced by those in `overrides`."""
    return {section: values | overrides.get(section, {}) for section, values in params.items()}


def plan(scale: Scale, gpu: bool) -> list[Run]:
    """The runs in order: the pipeline first (prepare, train, grpo, evaluate), then the other
    train setups, each with its own adapter under runs/, the sharded strategies last.

    On a CPU (dry run) varlen becomes auto (segments there) and Liger stays off.
    """
    prepare = ["--out-dir", "data", "--report", "runs/prepare.json", "--stats", "data/stats.json"]
    varlen = "varlen" if gpu else "auto"
    big = LIGER_BATCH if gpu else scale.batch_size
    liger = {"attention": varlen, "liger_kernel": gpu, "per_device_batch_size": big}
    checkpointing = {"gradient_checkpointing": True}
    runs = [
        Run("prepare", "stages/prepare.py", prepare, "runs/prepare.json", []),
        train_run("train varlen, liger", 0, liger),
        grpo_run("grpo", "grpo", {}),
        grpo_run("grpo, micro-batches of 4", "grpo4", {"micro_batch": 4}),
        Run("evaluate", "stages/evaluate.py", evaluate_arguments(), "runs/eval.json", EVAL_KEYS),
        train_run("train varlen, liger, checkpointing", 1, liger | checkpointing),
        train_run("train segments, liger", 2, liger | {"attention": "segments"}),
        train_run("train varlen", 3, {"attention": varlen}),
        train_run("train segments", 4, {"attention": "segments"}),
        train_run(
            "train padded, liger, checkpointing",
            5,
            liger
            | checkpointing
            | {
                "padding_free": False,
                "attention": "sdpa",
            },
        ),  # fmt: skip
    ]
    number = 5
    for checkpoint, budgets in TOKEN_BUDGETS.items():
        for budget in budgets if gpu else [2 * scale.seq_tokens]:
            name = f"train varlen, liger{', checkpointing' if checkpoint else ''}, {budget} tokens"
            budgeted = {"per_device_batch_size": 1, "batch_tokens": budget}
            train = liger | budgeted | {"gradient_checkpointing": checkpoint}
            runs.append(train_run(name, number, train))
            number += 1
    runs.append(train_run("train fsdp", number, liger | checkpointing, "fsdp"))
    if gpu and importlib.util.find_spec("deepspeed"):
        # DeepSpeed may compile its ops on first use: bounded, so it cannot eat the lease.
        runs.append(train_run("train zero2", number + 1, liger, "zero2", timeout_s=150))
    return runs


def train_run(
    name: str, number: int, train: dict, strategy: str = "ddp", timeout_s: int = 300
) -> Run:
    out = f"runs/train{number}"
    return Run(
        name, "stages/train.py", train_arguments(out), f"{out}/report.json", TRAIN_KEYS,
        {"train": train}, accelerate=strategy, timeout_s=timeout_s,
    )  # fmt: skip


def train_arguments(out: str) -> list[str]:
    return [
        "--train", "data/train.parquet", "--validation", "data/validation.parquet",
        "--adapter-dir", f"{out}/adapter", "--checkpoint-dir", f"{out}/checkpoints",
        "--metrics", f"{out}/train.json", "--report", f"{out}/report.json",
        "--plot", f"{out}/loss.csv", "--figure", f"{out}/loss.png",
    ]  # fmt: skip


def grpo_run(name: str, out: str, grpo: dict) -> Run:
    arguments = [
        "--train", "data/train.parquet", "--sft-adapter-dir", "runs/train0/adapter",
        "--adapter-dir", f"runs/{out}/adapter", "--checkpoint-dir", f"runs/{out}/checkpoints",
        "--metrics", f"runs/{out}/grpo.json", "--report", f"runs/{out}/report.json",
        "--plot", f"runs/{out}/reward.csv", "--figure", f"runs/{out}/reward.png",
    ]  # fmt: skip
    return Run(
        name, "stages/grpo.py", arguments, f"runs/{out}/report.json", GRPO_KEYS, {"grpo": grpo}
    )


def evaluate_arguments() -> list[str]:
    return [
        "--validation", "data/validation.parquet", "--heldout", "data/heldout.parquet",
        "--adapter", "sft=runs/train0/adapter", "--adapter", "grpo=runs/grpo/adapter",
        "--metrics", "runs/eval_headline.json", "--report", "runs/eval.json",
        "--breakdown", "runs/eval_breakdown.json",
        "--predictions", "runs/predictions.parquet", "--plot", "runs/eval.csv",
        "--accuracy-figure", "runs/eval.png", "--family-figure", "runs/families.png",
    ]  # fmt: skip


def execute(run: Run, scratch: Path, base: dict) -> dict:
    """Run one stage with its params in `scratch`; its figures, or rc != 0 and the error."""
    (scratch / "params.yaml").write_text(yaml.safe_dump(merge(base, run.params)))
    peak_file = scratch / "runs" / "peak.json"
    peak_file.parent.mkdir(exist_ok=True)
    peak_file.unlink(missing_ok=True)
    command = [sys.executable]
    if run.accelerate:
        config = f"configs/accelerate/{run.accelerate}.yaml"
        command += ["-m", "accelerate.commands.launch", "--config_file", config]
        command += ["--num_processes", "1", "--num_machines", "1"]
    command += [__file__, "run-stage", str(peak_file), run.stage, *run.arguments]
    python_path = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    environment = os.environ | {"PYTHONPATH": os.pathsep.join(python_path)}
    start = time.perf_counter()
    try:
        finished = subprocess.run(
            command, cwd=scratch, env=environment, capture_output=True, text=True,
            timeout=run.timeout_s,
        )  # fmt: skip
        rc, log = finished.returncode, finished.stdout + finished.stderr
    except subprocess.TimeoutExpired as expired:
        rc, log = 124, f"timed out after {run.timeout_s} s: {expired.stderr or ''}"
    result = {"name": run.name, "rc": rc, "wall_s": round(time.perf_counter() - start, 1)}
    if peak_file.is_file():
        result |= json.loads(peak_file.read_text())
    if rc != 0:
        result["error"] = log[-3000:]
        return result
    metrics = json.loads((scratch / run.metrics).read_text())
    return result | {key: metrics[key] for key in run.keys if key in metrics}


def format_result(result: dict) -> str:
    figures = {key: value for key, value in result.items() if key not in {"name", "error"}}
    line = f"{result['name']}: " + ", ".join(f"{key} {value}" for key, value in figures.items())
    return line + (f"\n{result['error']}" if "error" in result else "")


def run_stage(peak_file: Path, script: str, arguments: list[str]) -> None:
    """Run a stage script in this process, then record its peak memory (GPU and host)."""
    sys.argv = [script, *arguments]
    try:
        runpy.run_path(script, run_name="__main__")
    finally:
        peak = {
            "peak_host_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
        }
        if torch.cuda.is_available():
            peak["peak_gpu_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        peak_file.write_text(json.dumps(peak))


if __name__ == "__main__":
    if sys.argv[1:2] == ["run-stage"]:
        run_stage(Path(sys.argv[2]), sys.argv[3], sys.argv[4:])
    else:
        main()
