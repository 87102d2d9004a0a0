"""params.yaml validation: bad values stop the run with a message naming key, value and fix."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml

from mathtune.core.params import ParamsError, build_params, load_params, params_schema

REPO = Path(__file__).resolve().parents[2]
DEFAULTS = yaml.safe_load((REPO / "params.yaml").read_text())


def with_value(dotted_key: str, value) -> dict:
    """The default params with one value replaced (or added)."""
    raw = copy.deepcopy(DEFAULTS)
    *parents, leaf = dotted_key.split(".")
    section = raw
    for parent in parents:
        section = section[parent]
    section[leaf] = value
    return raw


def test_repository_params_file_is_valid():
    params = load_params(REPO / "params.yaml")
    assert params.train.lora.r == 16
    assert params.train.lora.target_modules[-3:] == ["gate_proj", "up_proj", "down_proj"]


@pytest.mark.parametrize(
    "key, value, message",
    [
        # out of range
        ("train.lr", -0.1, "train.lr = -0.1 is not allowed: must be > 0"),
        ("train.lr", 0, "train.lr = 0 is not allowed: must be > 0"),
        ("train.lora.r", 0, "train.lora.r = 0 is not allowed: must be >= 1"),
        ("train.lora.dropout", 1.0, "train.lora.dropout = 1.0"),
        ("train.lora.target_modules", [], "a non-empty list"),
        ("prepare.validation_fraction", 0.0, "must be > 0 and < 1"),
        ("prepare.validation_fraction", 1.5, "prepare.validation_fraction = 1.5"),
        ("prepare.max_rows", 1, "prepare.max_rows = 1"),
        ("evaluate.batch_size", 0, "evaluate.batch_size = 0"),
        ("evaluate.benchmarks.samples", -1, "evaluate.benchmarks.samples = -1"),
        ("evaluate.benchmarks.temperature", 0, "set samples: 0 for greedy only"),
        ("evaluate.benchmarks.top_p", 1.5, "evaluate.benchmarks.top_p = 1.5"),
        ("evaluate.benchmarks.max_samples", 0, "evaluate.benchmarks.max_samples = 0"),
        ("evaluate.benchmarks.max_new_tokens", 0, "evaluate.benchmarks.max_new_tokens = 0"),
        ("evaluate.benchmarks.math500.source", "off", "one of none, hub, local"),
        ("evaluate.benchmarks.gsm8k.source", False, "one of none, hub, local"),  # YAML's `off`
        ("evaluate.benchmarks.gsm8k.source", "local", "evaluate.benchmarks.gsm8k.local_files"),
        ("evaluate.benchmarks.aime", {}, "unknown key 'evaluate.benchmarks.aime'"),
        ("train.max_steps", 0, r"must be >= 1 \(or null\)"),
        ("train.max_length", 8, "train.max_length = 8"),
        ("prepare.decontaminate_ngram", 0, "prepare.decontaminate_ngram = 0.*open-r1 uses 8"),
        ("prepare.heldout_families", ["lcm", "lcm"], "distinct family names"),
        # unknown choices
        ("prepare.source", "web", "one of synthetic, local, hub"),
        ("prepare.hub.config", "tiny", "one of default, extended, all"),
        ("model.source", "ollama", "one of embedded, hub, local"),
        ("model.precision", "int8", "one of auto, bf16, fp16, fp32"),
        ("wandb.mode", "on", "one of offline, online, disabled"),
        ("evaluate.backend", "tgi", "one of transformers, vllm"),
        ("launch.strategy", "zero1", "one of ddp, fsdp, zero2, zero3"),
        ("launch.num_processes", 0, "launch.num_processes = 0 is not allowed: must be >= 1"),
        ("launch.num_processes", "2", "an integer"),
        ("launch.vllm.tensor_parallel_size", 0, "launch.vllm.tensor_parallel_size = 0"),
        ("launch.vllm.data_parallel_size", 1.5, "an integer"),
        # wrong types
        ("train.lr", "fast", "train.lr = 'fast' is not allowed: a number"),
        ("train.lr", True, "a number"),
        ("train.per_device_batch_size", 2.5, "an integer"),
        ("train.padding_free", "yes", "true or false"),
        ("train.attention", "flash", "one of auto, varlen, segments, sdpa"),
        (
            "train.batch_tokens",
            4096,
            "train.batch_tokens = 4096 is not allowed: null unless train.padding_free is true "
            "and train.per_device_batch_size is 1",
        ),
        ("grpo.micro_batch", 0, "grpo.micro_batch = 0 is not allowed: must be >= 1"),
        ("train.lora.target_modules", "q_proj", "a list"),
        ("prepare.heldout_families", "lcm", "prepare.heldout_families = 'lcm'.*a list"),
        ("prepare.decontaminate_against", [3], r"prepare.decontaminate_against\[0\] = 3"),
        ("prepare.decontaminate_validation", "no", "true or false"),
        ("train.lora.target_modules", ["q_proj", 3], r"train.lora.target_modules\[1\] = 3"),
        ("model.hub_id", "", "a non-empty string"),
        ("train.lora", 16, "train.lora = 16 is not allowed: a mapping"),
        # a source that needs more params
        ("prepare.source", "local", "prepare.local_files"),
        ("model.source", "local", "model.local_dir"),
        # grpo
        ("grpo.generations_per_prompt", 1, "must be >= 2 .GRPO's advantages compare"),
        ("grpo.steps", 0, "grpo.steps = 0 is not allowed"),
        ("grpo.beta", -0.1, "grpo.beta = -0.1 is not allowed: must be >= 0"),
        ("grpo.epsilon", 0, "grpo.epsilon = 0 is not allowed: must be > 0 and < 1"),
        ("grpo.temperature", 0, "grpo.temperature = 0 is not allowed: must be > 0"),
        ("grpo.loss_type", "ppo", "one of dapo, grpo, dr_grpo"),
        ("grpo.backend", "sglang", "one of transformers, vllm"),
        ("grpo.rewards", {"format": 1.0}, "grpo.rewards = .* a mapping that keeps accuracy"),
        ("grpo.rewards", {"accuracy": -1.0}, "grpo.rewards.accuracy = -1.0 .*must be >= 0"),
        ("grpo.rewards", {"accuracy": 0.0}, "at least one weight > 0"),
        ("grpo.rewards", {"accuracy": "high"}, "grpo.rewards.accuracy = 'high' .*a number"),
        ("grpo.rewards", ["accuracy"], "grpo.rewards = .*a mapping"),
        ("grpo.rewards", {}, "grpo.rewards = {} is not allowed: a non-empty mapping"),
        ("grpo.filter.samples", 1, "grpo.filter.samples = 1"),
        ("grpo.filter.enable", True, "unknown key 'grpo.filter.enable' under grpo.filter"),
        # unknown keys
        ("train.learning_rate", 1e-4, "unknown key 'train.learning_rate' under train"),
        ("extra", 1, "unknown key 'extra' under the top level"),
    ],
)
def test_bad_value_names_key_value_and_what_is_allowed(key, value, message):
    with pytest.raises(ParamsError, match=message):
        build_params(with_value(key, value))


def test_missing_key_is_named():
    raw = copy.deepcopy(DEFAULTS)
    del raw["train"]["seed"]
    with pytest.raises(ParamsError, match="missing key 'train.seed'"):
        build_params(raw)


def test_missing_file_says_where_to_run(tmp_path):
    with pytest.raises(ParamsError, match="run the stages from the repository root"):
        load_params(tmp_path / "params.yaml")


def test_invalid_yaml_is_reported(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("train: [unclosed\n")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(path)


@pytest.mark.parametrize(
    "written, expected",
    [
        # what `dvc exp run -S train.lr=1e-6` leaves in params.yaml, read by YAML 1.1 as a string
        ("1e-6", 1e-6),
        ("1.0e-6", 1e-6),
        ("3", 3.0),
    ],
)
def test_values_written_by_dvc_set_param_get_their_types(tmp_path, written, expected):
    text, replaced = re.subn(
        r"^  lr: \S+",
        f"  lr: {written}",
        (REPO / "params.yaml").read_text(),
        count=1,  # train.lr, the first section with an lr
        flags=re.M,
    )
    assert replaced == 1
    path = tmp_path / "params.yaml"
    path.write_text(text)
    lr = load_params(path).train.lr
    assert isinstance(lr, float)
    assert lr == expected


def test_benchmark_params_from_set_param_get_their_types():
    raw = with_value("evaluate.benchmarks.temperature", 0.6)
    raw["evaluate"]["benchmarks"]["max_samples"] = 50
    raw["evaluate"]["benchmarks"]["math500"]["source"] = "hub"
    benchmarks = build_params(raw).evaluate.benchmarks
    assert benchmarks.temperature == 0.6
    assert benchmarks.max_samples == 50
    assert benchmarks.math500.source == "hub"
    assert benchmarks.gsm8k.source == "none"


def test_null_true_and_lists_from_set_param_get_their_types():
    raw = with_value("train.max_steps", None)
    raw["train"]["padding_free"] = False
    raw["train"]["lora"]["target_modules"] = ["q_proj"]
    params = build_params(raw)
    assert params.train.max_steps is None
    assert params.train.padding_free is False
    assert params.train.lora.target_modules == ["q_proj"]


def test_reward_weights_set_from_the_command_line_become_floats():
    # what `dvc exp run -S grpo.rewards.format=0 -S grpo.rewards.reasoning=1` leaves behind
    raw = with_value("grpo.rewards", {"accuracy": 1, "format": 0, "reasoning": 0.1})
    assert build_params(raw).grpo.rewards == {"accuracy": 1.0, "format": 0.0, "reasoning": 0.1}


def test_every_mistake_is_reported_at_once_one_line_each():
    raw = with_value("train.lr", -0.5)
    raw["train"]["learning_rate"] = 1e-4
    raw["model"]["precision"] = "int8"
    raw["prepare"]["heldout_families"] = ["lcm", "lcm"]
    del raw["grpo"]["seed"]
    with pytest.raises(ParamsError) as caught:
        build_params(raw)
    assert str(caught.value).splitlines() == [
        "params.yaml: prepare.heldout_families = ['lcm', 'lcm'] is not allowed: "
        "a list of distinct family names.",
        "params.yaml: model.precision = 'int8' is not allowed: one of auto, bf16, fp16, fp32.",
        "params.yaml: train.lr = -0.5 is not allowed: must be > 0.",
        "params.yaml: unknown key 'train.learning_rate' under train; allowed keys are "
        + ", ".join(DEFAULTS["train"])
        + ".",
        "params.yaml: missing key 'grpo.seed'.",
    ]


def test_the_committed_json_schema_is_the_one_the_models_give():
    committed = json.loads((REPO / "params.schema.json").read_text())
    assert committed == params_schema(), "Fix: python -m mathtune.core.params"


def test_params_yaml_names_its_schema_for_editors():
    first_line = (REPO / "params.yaml").read_text().splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=params.schema.json"


def test_the_schema_forbids_unknown_keys_and_states_ranges():
    schema = params_schema()
    train = schema["$defs"]["TrainParams"]
    assert train["additionalProperties"] is False
    assert train["properties"]["lr"]["exclusiveMinimum"] == 0
    assert set(train["required"]) == set(DEFAULTS["train"])


def test_a_probe_set_must_also_be_kept_out_of_training():
    raw = with_value("prepare.decontaminate_against", ["benchmarks/probe_problems.jsonl"])
    with pytest.raises(ParamsError, match=r"evaluate.probe_sets lists \[.*probe_procedural"):
        build_params(raw)


def test_kernels_that_read_boundaries_need_padding_free_batches():
    raw = with_value("train.attention", "varlen")
    raw["train"]["padding_free"] = False
    with pytest.raises(
        ParamsError, match="train.attention = 'varlen' is not allowed: auto or sdpa"
    ):
        build_params(raw)


def test_a_token_budget_must_hold_the_longest_example():
    raw = with_value("train.batch_tokens", 256)
    raw["train"]["per_device_batch_size"] = 1
    with pytest.raises(ParamsError, match=r"at least train.max_length \(512\)"):
        build_params(raw)
    raw["train"]["batch_tokens"] = 4096
    assert build_params(raw).train.batch_tokens == 4096
