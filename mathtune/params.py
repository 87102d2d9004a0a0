"""Typed, validated view of `params.yaml`.

Every stage calls `load_params()` first, so a mistyped key, a wrong type or an
out-of-range value stops the run with one clear message before any model or data loads:

    params.yaml: train.lr = -0.1 is not allowed: must be > 0.

Defaults live only in `params.yaml`; the dataclasses below declare types and ranges.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

PARAMS_FILE = Path("params.yaml")
# The standard benchmarks evaluate can score: one BenchmarksParams field each.
BENCHMARK_NAMES = ("math500", "gsm8k")


class ParamsError(ValueError):
    """A key of params.yaml is missing, unknown, mistyped or out of range."""


@dataclass(frozen=True)
class HubDatasetParams:
    dataset: str
    config: Literal["default", "extended", "all"]
    revision: str


@dataclass(frozen=True)
class SyntheticParams:
    rows: int
    seed: int

    def __post_init__(self) -> None:
        _require(self.rows >= 10, "prepare.synthetic.rows", self.rows, "an integer >= 10")


@dataclass(frozen=True)
class PrepareParams:
    source: Literal["synthetic", "local", "hub"]
    hub: HubDatasetParams
    local_files: list[str]
    synthetic: SyntheticParams
    target: Literal["solution", "trace"]
    validation_fraction: float
    split_salt: str
    max_rows: int | None
    read_batch_rows: int
    heldout_families: list[str]
    decontaminate_against: list[str]
    decontaminate_ngram: int
    decontaminate_validation: bool

    def __post_init__(self) -> None:
        _require(
            0.0 < self.validation_fraction < 1.0,
            "prepare.validation_fraction",
            self.validation_fraction,
            "a number strictly between 0 and 1",
        )
        _require(
            self.source != "local" or len(self.local_files) > 0,
            "prepare.local_files",
            self.local_files,
            "at least one Parquet or JSONL path when prepare.source is local",
        )
        _require(
            self.max_rows is None or self.max_rows >= 2,
            "prepare.max_rows",
            self.max_rows,
            "null or an integer >= 2",
        )
        _require(self.read_batch_rows >= 1, "prepare.read_batch_rows", self.read_batch_rows, ">= 1")
        _require(
            len(set(self.heldout_families)) == len(self.heldout_families),
            "prepare.heldout_families",
            self.heldout_families,
            "a list of distinct family names (each once)",
        )
        _require(
            self.decontaminate_ngram >= 1,
            "prepare.decontaminate_ngram",
            self.decontaminate_ngram,
            "an integer >= 1 (open-r1 uses 8)",
        )


@dataclass(frozen=True)
class ModelParams:
    source: Literal["embedded", "hub", "local"]
    hub_id: str
    revision: str
    local_dir: str | None
    trust_remote_code: bool
    precision: Literal["auto", "bf16", "fp16", "fp32"]

    def __post_init__(self) -> None:
        _require(
            self.source != "local" or bool(self.local_dir),
            "model.local_dir",
            self.local_dir,
            "a model directory when model.source is local",
        )


@dataclass(frozen=True)
class LoraParams:
    r: int
    alpha: int
    dropout: float
    target_modules: list[str]

    def __post_init__(self) -> None:
        _require(self.r >= 1, "train.lora.r", self.r, "an integer >= 1")
        _require(self.alpha >= 1, "train.lora.alpha", self.alpha, "an integer >= 1")
        _require(0.0 <= self.dropout < 1.0, "train.lora.dropout", self.dropout, "0 <= dropout < 1")
        _require(
            len(self.target_modules) > 0,
            "train.lora.target_modules",
            self.target_modules,
            "a non-empty list of module names such as [q_proj, v_proj]",
        )


@dataclass(frozen=True)
class TrainParams:
    seed: int
    lr: float
    epochs: float
    max_steps: int | None
    per_device_batch_size: int
    gradient_accumulation_steps: int
    warmup_ratio: float
    lr_scheduler: str
    weight_decay: float
    max_grad_norm: float
    max_length: int
    padding_free: bool
    gradient_checkpointing: bool
    liger_kernel: bool
    logging_steps: int
    eval_steps: int
    save_steps: int
    lora: LoraParams

    def __post_init__(self) -> None:
        _require(self.lr > 0, "train.lr", self.lr, "must be > 0")
        _require(self.epochs > 0, "train.epochs", self.epochs, "must be > 0")
        _require(
            self.max_steps is None or self.max_steps >= 1,
            "train.max_steps",
            self.max_steps,
            "null or an integer >= 1",
        )
        for key in (
            "per_device_batch_size",
            "gradient_accumulation_steps",
            "logging_steps",
            "eval_steps",
            "save_steps",
        ):
            _require(getattr(self, key) >= 1, f"train.{key}", getattr(self, key), "an integer >= 1")
        _require(
            0.0 <= self.warmup_ratio < 1.0, "train.warmup_ratio", self.warmup_ratio, "in [0, 1)"
        )
        _require(self.weight_decay >= 0, "train.weight_decay", self.weight_decay, "must be >= 0")
        _require(self.max_grad_norm > 0, "train.max_grad_norm", self.max_grad_norm, "must be > 0")
        _require(self.max_length >= 16, "train.max_length", self.max_length, "an integer >= 16")


@dataclass(frozen=True)
class BenchmarkParams:
    source: Literal["none", "hub", "local"]
    dataset: str
    config: str
    split: str
    revision: str
    local_files: list[str]


@dataclass(frozen=True)
class BenchmarksParams:
    math500: BenchmarkParams
    gsm8k: BenchmarkParams
    max_samples: int | None
    max_new_tokens: int
    samples: int
    temperature: float
    top_p: float
    seed: int

    def __post_init__(self) -> None:
        for name in BENCHMARK_NAMES:
            benchmark = getattr(self, name)
            _require(
                benchmark.source != "local" or len(benchmark.local_files) > 0,
                f"evaluate.benchmarks.{name}.local_files",
                benchmark.local_files,
                f"a Parquet or JSONL path when evaluate.benchmarks.{name}.source is local",
            )
        _require(
            self.max_samples is None or self.max_samples >= 1,
            "evaluate.benchmarks.max_samples",
            self.max_samples,
            "null or an integer >= 1",
        )
        _require(
            self.max_new_tokens >= 1,
            "evaluate.benchmarks.max_new_tokens",
            self.max_new_tokens,
            "an integer >= 1",
        )
        _require(self.samples >= 0, "evaluate.benchmarks.samples", self.samples, "an integer >= 0")
        _require(
            self.temperature > 0,
            "evaluate.benchmarks.temperature",
            self.temperature,
            "must be > 0 (greedy answers are scored anyway; set samples: 0 for greedy only)",
        )
        _require(0 < self.top_p <= 1, "evaluate.benchmarks.top_p", self.top_p, "in (0, 1]")


@dataclass(frozen=True)
class EvaluateParams:
    max_samples: int | None
    max_new_tokens: int
    batch_size: int
    backend: Literal["transformers", "vllm"]
    benchmarks: BenchmarksParams

    def __post_init__(self) -> None:
        _require(
            self.max_samples is None or self.max_samples >= 1,
            "evaluate.max_samples",
            self.max_samples,
            "null or an integer >= 1",
        )
        _require(self.max_new_tokens >= 1, "evaluate.max_new_tokens", self.max_new_tokens, ">= 1")
        _require(self.batch_size >= 1, "evaluate.batch_size", self.batch_size, ">= 1")


@dataclass(frozen=True)
class PromptFilterParams:
    enabled: bool
    samples: int
    max_prompts: int

    def __post_init__(self) -> None:
        _require(self.samples >= 2, "grpo.filter.samples", self.samples, "an integer >= 2")
        _require(self.max_prompts >= 1, "grpo.filter.max_prompts", self.max_prompts, ">= 1")


@dataclass(frozen=True)
class GrpoParams:
    enabled: bool
    seed: int
    steps: int
    lr: float
    lr_scheduler: str
    prompts_per_step: int
    generations_per_prompt: int
    max_completion_length: int
    temperature: float
    beta: float
    loss_type: Literal["dapo", "grpo", "dr_grpo", "bnpo", "cispo", "sapo"]
    epsilon: float
    mask_truncated_completions: bool
    rewards: dict[str, float]
    backend: Literal["transformers", "vllm"]
    gradient_checkpointing: bool
    filter: PromptFilterParams
    logging_steps: int
    save_steps: int
    summary_steps: int
    logged_completions: int

    def __post_init__(self) -> None:
        for key in (
            "steps",
            "prompts_per_step",
            "max_completion_length",
            "logging_steps",
            "save_steps",
            "summary_steps",
        ):
            _require(getattr(self, key) >= 1, f"grpo.{key}", getattr(self, key), "an integer >= 1")
        _require(
            self.generations_per_prompt >= 2,
            "grpo.generations_per_prompt",
            self.generations_per_prompt,
            "an integer >= 2 (GRPO's advantages compare completions of the same prompt)",
        )
        _require(self.lr > 0, "grpo.lr", self.lr, "must be > 0")
        _require(self.temperature > 0, "grpo.temperature", self.temperature, "must be > 0")
        _require(self.beta >= 0, "grpo.beta", self.beta, "must be >= 0 (0 = no KL term)")
        _require(0 < self.epsilon < 1, "grpo.epsilon", self.epsilon, "in (0, 1)")
        _require(
            self.logged_completions >= 0, "grpo.logged_completions", self.logged_completions, ">= 0"
        )
        _require(
            "accuracy" in self.rewards,
            "grpo.rewards",
            self.rewards,
            "a mapping that keeps accuracy (weight 0 to only measure it): without it reward "
            "hacking cannot be seen",
        )
        for name, weight in self.rewards.items():
            _require(weight >= 0, f"grpo.rewards.{name}", weight, "a weight >= 0")
        _require(
            sum(self.rewards.values()) > 0, "grpo.rewards", self.rewards, "at least one weight > 0"
        )


@dataclass(frozen=True)
class VllmParallelParams:
    tensor_parallel_size: int
    data_parallel_size: int

    def __post_init__(self) -> None:
        for key in ("tensor_parallel_size", "data_parallel_size"):
            value = getattr(self, key)
            _require(value >= 1, f"launch.vllm.{key}", value, "an integer >= 1")


@dataclass(frozen=True)
class LaunchParams:
    num_processes: int
    strategy: Literal["ddp", "fsdp", "zero2", "zero3"]
    allocator: Literal["mimalloc", "system"]
    vllm: VllmParallelParams

    def __post_init__(self) -> None:
        _require(self.num_processes >= 1, "launch.num_processes", self.num_processes, ">= 1")


@dataclass(frozen=True)
class WandbParams:
    mode: Literal["offline", "online", "disabled"]
    project: str
    run_name: str | None


@dataclass(frozen=True)
class Params:
    prepare: PrepareParams
    model: ModelParams
    train: TrainParams
    evaluate: EvaluateParams
    grpo: GrpoParams
    launch: LaunchParams
    wandb: WandbParams


def load_params(path: str | Path = PARAMS_FILE) -> Params:
    """Read and validate a params file; raise ParamsError naming the bad key."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path} not found: run the stages from the repository root.")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ParamsError(f"{path} is not valid YAML: {err}") from err
    return build_params(raw)


def build_params(raw: Any) -> Params:
    """Validate an already-parsed params mapping (what `yaml.safe_load` returns)."""
    return _build_dataclass(Params, raw, key="")


def params_as_dict(params: Params) -> dict[str, Any]:
    """Plain nested dict of all params, for the W&B run config."""
    return dataclasses.asdict(params)


def _require(condition: bool, key: str, value: Any, allowed: str) -> None:
    if not condition:
        raise ParamsError(f"params.yaml: {key} = {value!r} is not allowed: {allowed}.")


def _build_dataclass(cls: type, raw: Any, key: str) -> Any:
    where = key or "the top level"
    if not isinstance(raw, dict):
        raise ParamsError(f"params.yaml: {where} must be a mapping, got {raw!r}.")
    hints = typing.get_type_hints(cls)
    names = [field.name for field in dataclasses.fields(cls)]
    unknown = sorted(set(raw) - set(names))
    if unknown:
        raise ParamsError(
            f"params.yaml: unknown key {_join(key, unknown[0])!r} under {where}; "
            f"allowed keys are {', '.join(names)}."
        )
    missing = [name for name in names if name not in raw]
    if missing:
        raise ParamsError(f"params.yaml: missing key {_join(key, missing[0])!r}.")
    values = {name: _convert(hints[name], raw[name], _join(key, name)) for name in names}
    return cls(**values)


def _convert(annotation: Any, value: Any, key: str) -> Any:
    """Check `value` against a type annotation, converting only lossless cases."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if dataclasses.is_dataclass(annotation):
        return _build_dataclass(annotation, value, key)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [arg for arg in args if arg is not type(None)]
        return _convert(inner, value, key)
    if origin is Literal:
        _require(value in args, key, value, "one of " + ", ".join(map(str, args)))
        return value
    if origin is list:
        _require(isinstance(value, list), key, value, "a list")
        return [_convert(args[0], item, f"{key}[{index}]") for index, item in enumerate(value)]
    if origin is dict:
        _require(isinstance(value, dict) and len(value) > 0, key, value, "a non-empty mapping")
        return {
            _convert(args[0], name, key): _convert(args[1], item, f"{key}.{name}")
            for name, item in value.items()
        }
    return _convert_scalar(annotation, value, key)


def _convert_scalar(annotation: type, value: Any, key: str) -> Any:
    if annotation is bool:
        _require(isinstance(value, bool), key, value, "true or false")
    elif annotation is int:
        _require(isinstance(value, int) and not isinstance(value, bool), key, value, "an integer")
    elif annotation is float:
        return _to_float(value, key)
    elif annotation is str:
        _require(isinstance(value, str) and value != "", key, value, "a non-empty string")
    return value


def _to_float(value: Any, key: str) -> float:
    # PyYAML (YAML 1.1) reads `1e-6` without a dot as a string; accept it as the number it is.
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    _require(isinstance(value, int | float) and not isinstance(value, bool), key, value, "a number")
    return float(value)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
