"""The GPU paths end to end: every stage on one GPU with a Qwen2.5-0.5B-shaped model.

No hub is needed. The model has Qwen2.5-0.5B's architecture (QWEN_05B below) and random
weights, saved as a local model (`model.source: local`) with the embedded model's tokenizer
(or --tokenizer). The data are curriculum rows whose reasoning traces are lengthened to
about --seq-tokens tokens (`prepare.source: local`, `target: trace`). Random weights learn
nothing and never stop generating, so the figures are speed and memory, not accuracy.

Every stage runs its real script as its own process, from a scratch folder holding its own
params.yaml, through this file's `run-stage` wrapper, which records the process's peak GPU
memory. In order:
1. prepare the long-trace rows;
2. train under `accelerate launch` (one process), in setups that differ in padding-free
   batches, Liger kernels and gradient checkpointing, then under the fsdp and zero2
   accelerate configs (zero2 only where DeepSpeed is installed);
3. grpo from the first setup's adapter, transformers backend;
4. evaluate base, SFT and GRPO on the splits and on MATH-500- and GSM8K-shaped local files,
   greedy and sampled.
It prints one line per run (wall time, tokens or completions per second, peak GPU memory,
final loss) and writes them to --results as JSON. On a machine without a GPU it runs a
tiny model of the same family at short lengths, without Liger and DeepSpeed: a dry run.

    python benchmarks/gpu_check.py [--work /tmp/gpu_check] [--results FILE] [--tokenizer DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import resource
import runpy
import shutil
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


GPU_SCALE = Scale(QWEN_05B, 4096, 240, 12, 4, 3, 4, 8, 256, 32, 128)
CPU_SCALE = Scale(QWEN_TINY, 256, 120, 3, 2, 1, 2, 2, 16, 4, 8)


TRAIN_KEYS = ["train/real_tokens_per_s", "train/loss", "eval/loss", "train/truncated_examples"]
GRPO_KEYS = ["grpo/completions_per_s", "grpo/s_per_step", "grpo/mean_completion_length"]
EVAL_KEYS = ["eval/sft/accuracy", "eval/sft/mean_generated_tokens", "eval/sft/math500/pass@1"]


@dataclass
class Run:
    """One stage process and what it reported."""

    name: str
    stage: str
    arguments: list[str]
    metrics: str  # the stage's metrics JSON, relative to the scratch folder
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
    print_environment()
    shutil.rmtree(args.work, ignore_errors=True)
    scratch = make_scratch(args.work)
    model_dir = build_model(args.work / "model", scale.shape, args.tokenizer)
    write_long_trace_rows(scratch / "rows.parquet", model_dir, scale)
    write_benchmark_files(scratch)
    base = base_params(model_dir, scale)
    results = []
    for run in runs:
        results.append(execute(run, scratch, base))
        print(format_result(results[-1]), flush=True)
    if args.results:
        args.results.write_text(json.dumps(results, indent=1))
    failed = [result["name"] for result in results if result["rc"] != 0]
    print("failed:", ", ".join(failed) if failed else "none")


def print_environment() -> None:
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
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "none (dry run)"
    print(f"gpu: {gpu}")
    print(", ".join(f"{name} {version}" for name, version in versions.items()), flush=True)


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


def write_long_trace_rows(path: Path, model_dir: Path, scale: Scale) -> None:
    """Curriculum rows whose correct traces are padded with re-checks to 0.5-0.95 x
    seq_tokens tokens, so that batches mix lengths as real reasoning traces do."""
    from transformers import AutoTokenizer

    from mathtune.core.schema import OPENR1_SCHEMA
    from mathtune.curriculum.rows import generate_row

    # Reloaded from the model folder, as the stages load it: the in-memory GGUF tokenizer
    # counts some traces differently.
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    rng = random.Random(0)
    rows = []
    for index in range(scale.rows):
        row = generate_row(0, index)
        target = int(scale.seq_tokens * rng.uniform(0.5, 0.95))
        row["generations"] = [
            lengthen(trace, target, tokenizer) if correct else trace
            for trace, correct in zip(
                row["generations"], row["correctness_math_verify"], strict=True
            )
        ]
        rows.append(row)
    pq.write_table(pa.Table.from_pylist(rows, schema=OPENR1_SCHEMA), path)


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
    train setups, each with its own adapter under runs/, the sharded strategies last."""
    prepare = ["--out-dir", "data", "--metrics", "runs/prepare.json", "--stats", "data/stats.json"]
    on_gpu = {"liger_kernel": gpu, "gradient_checkpointing": True}
    runs = [
        Run("prepare", "stages/prepare.py", prepare, "runs/prepare.json", []),
        train_run("train padding-free, liger, checkpointing", 0, on_gpu, "ddp"),
        Run("grpo", "stages/grpo.py", grpo_arguments(), "runs/grpo.json", GRPO_KEYS),
        Run("evaluate", "stages/evaluate.py", evaluate_arguments(), "runs/eval.json", EVAL_KEYS),
        train_run("train padding-free, plain", 1, {}, "ddp"),
        train_run("train padded, liger, checkpointing", 2, on_gpu | {"padding_free": False}, "ddp"),
        train_run("train padded, plain", 3, {"padding_free": False}, "ddp"),
        train_run("train padding-free, checkpointing", 4, {"gradient_checkpointing": True}, "ddp"),
        train_run("train padding-free, liger", 5, {"liger_kernel": gpu}, "ddp"),
        train_run("train fsdp", 6, on_gpu, "fsdp"),
    ]
    if gpu and importlib.util.find_spec("deepspeed"):
        # DeepSpeed may compile its ops on first use: bounded, so it cannot eat the lease.
        runs.append(train_run("train zero2", 7, on_gpu, "zero2", timeout_s=150))
    return runs


def train_run(name: str, number: int, train: dict, strategy: str, timeout_s: int = 300) -> Run:
    out = f"runs/train{number}"
    return Run(
        name, "stages/train.py", train_arguments(out), f"{out}/train.json", TRAIN_KEYS,
        {"train": train}, accelerate=strategy, timeout_s=timeout_s,
    )  # fmt: skip


def train_arguments(out: str) -> list[str]:
    return [
        "--train", "data/train.parquet", "--validation", "data/validation.parquet",
        "--adapter-dir", f"{out}/adapter", "--checkpoint-dir", f"{out}/checkpoints",
        "--metrics", f"{out}/train.json", "--plot", f"{out}/loss.csv",
        "--figure", f"{out}/loss.png",
    ]  # fmt: skip


def grpo_arguments() -> list[str]:
    return [
        "--train", "data/train.parquet", "--sft-adapter-dir", "runs/train0/adapter",
        "--adapter-dir", "runs/grpo/adapter", "--checkpoint-dir", "runs/grpo/checkpoints",
        "--metrics", "runs/grpo.json", "--plot", "runs/grpo/reward.csv",
        "--figure", "runs/grpo/reward.png",
    ]  # fmt: skip


def evaluate_arguments() -> list[str]:
    return [
        "--validation", "data/validation.parquet", "--heldout", "data/heldout.parquet",
        "--adapter", "sft=runs/train0/adapter", "--adapter", "grpo=runs/grpo/adapter",
        "--metrics", "runs/eval.json", "--breakdown", "runs/eval_breakdown.json",
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
