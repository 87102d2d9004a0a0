"""Merging an adapter: the saved folder answers as base + adapter, loaded by transformers
alone in a process that never imports mathtune or peft."""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from transformers import AutoTokenizer

from conftest import TINY_PROBLEMS, child_env, load_tokenizer_with_eos, save_random_adapter
from mathtune.export.merge import (
    RECORD_FILE,
    describe_export,
    merge_adapter,
    merged_generation_config,
    save_merged,
)
from mathtune.models.generation import Decoding, generation_config, stop_token_ids
from mathtune.models.loading import load_adapter, load_base_model
from mathtune.models.prompts import build_messages, format_prompt

NEW_TOKENS = 12

# What a user of the merged folder runs: plain transformers, its saved chat template and
# generation config (greedy, stops at the end of the turn), nothing of this project.
CHILD = """
import json, sys
from transformers import AutoModelForCausalLM, AutoTokenizer

folder, conversations, new_tokens = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
tokenizer = AutoTokenizer.from_pretrained(folder)
model = AutoModelForCausalLM.from_pretrained(folder)
answers = []
for messages in conversations:
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    inputs = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")
    output = model.generate(**inputs, max_new_tokens=new_tokens)
    answers.append({"prompt": prompt, "tokens": output[0, inputs["input_ids"].shape[1]:].tolist()})
imported = sorted({name.split(".")[0] for name in sys.modules} & {"mathtune", "peft"})
print(json.dumps({"answers": answers, "dtype": str(model.dtype), "imported": imported}))
"""


def load_in_plain_transformers(folder: Path) -> dict:
    conversations = json.dumps([build_messages(problem) for problem in TINY_PROBLEMS])
    command = [sys.executable, "-c", CHILD, str(folder), conversations, str(NEW_TOKENS)]
    result = subprocess.run(command, capture_output=True, text=True, env=child_env())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def greedy_tokens(model, tokenizer, prompts: list[str]) -> list[list[int]]:
    """The project's greedy decoding, one prompt at a time (no padding to compare around)."""
    config = generation_config(tokenizer, Decoding(max_new_tokens=NEW_TOKENS))
    answers = []
    for prompt in prompts:
        inputs = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")
        with torch.inference_mode():
            output = model.generate(**inputs, generation_config=config)
        answers.append(output[0, inputs["input_ids"].shape[1] :].tolist())
    return answers


@pytest.fixture(scope="module")
def adapter_dir(tiny_location, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("export-adapter") / "adapter"
    save_random_adapter(tiny_location, directory, seed=0)
    return directory


@pytest.fixture(scope="module")
def merged_dir(tiny_location, tiny_tokenizer, adapter_dir, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("export") / "merged"
    record = describe_export(tiny_location, "grpo", adapter_dir, "fp32")
    save_merged(merge_adapter(tiny_location, adapter_dir), tiny_tokenizer, folder, record)
    return folder


@pytest.fixture(scope="module")
def plain_run(merged_dir) -> dict:
    return load_in_plain_transformers(merged_dir)


def test_merged_fp32_answers_token_for_token_as_base_plus_adapter(
    plain_run, tiny_location, tiny_tokenizer, tiny_prompts, adapter_dir
):
    base = load_base_model(tiny_location).eval()
    base_only = greedy_tokens(base, tiny_tokenizer, tiny_prompts)
    with_adapter = load_adapter(base, adapter_dir, tiny_location).eval()
    expected = greedy_tokens(with_adapter, tiny_tokenizer, tiny_prompts)
    assert [answer["tokens"] for answer in plain_run["answers"]] == expected
    assert expected != base_only, "the adapter changes the answers, so the merge is seen"
    assert plain_run["dtype"] == "torch.float32"


def test_merged_folder_loads_without_mathtune_or_peft(plain_run):
    assert plain_run["imported"] == []


def test_saved_chat_template_builds_the_training_prompt(plain_run, tiny_prompts):
    assert [answer["prompt"] for answer in plain_run["answers"]] == tiny_prompts


def test_a_tokenizer_without_template_is_saved_with_the_chatml_the_project_used(
    tiny_location, tiny_tokenizer, adapter_dir, tmp_path
):
    bare = copy.deepcopy(tiny_tokenizer)
    bare.chat_template = None
    record = describe_export(tiny_location, "sft", adapter_dir, "fp32")
    save_merged(merge_adapter(tiny_location, adapter_dir), bare, tmp_path / "merged", record)
    saved = AutoTokenizer.from_pretrained(tmp_path / "merged")
    prompt = format_prompt(bare, TINY_PROBLEMS[0])  # ChatML: the fallback of models/prompts.py
    assert format_prompt(saved, TINY_PROBLEMS[0]) == prompt
    assert (
        saved.apply_chat_template(
            build_messages(TINY_PROBLEMS[0]), tokenize=False, add_generation_prompt=True
        )
        == prompt
    )


def test_generation_config_stops_at_end_of_turn_when_eos_differs(embedded_tokenizer):
    # Qwen2.5 base: eos is <|endoftext|>, a turn ends with <|im_end|>; both must stop.
    qwen_like = load_tokenizer_with_eos(embedded_tokenizer, "<|endoftext|>")
    config = merged_generation_config(qwen_like)
    im_end = embedded_tokenizer.convert_tokens_to_ids("<|im_end|>")
    endoftext = embedded_tokenizer.convert_tokens_to_ids("<|endoftext|>")
    assert config.eos_token_id == sorted({im_end, endoftext}) == stop_token_ids(qwen_like)
    assert config.do_sample is False


def test_saved_generation_config_and_record(merged_dir, adapter_dir, tiny_tokenizer):
    saved = json.loads((merged_dir / "generation_config.json").read_text())
    assert saved["eos_token_id"] == stop_token_ids(tiny_tokenizer)
    assert not {"temperature", "top_p", "top_k"} & set(saved), "no sampling defaults to inherit"
    record = json.loads((merged_dir / RECORD_FILE).read_text())
    assert record["adapter"] == "grpo" and record["dtype"] == "fp32"
    assert record["base_model"].startswith("local:") and record["revision"] is None
    weights = (adapter_dir / "adapter_model.safetensors").read_bytes()
    assert record["adapter_sha256"] == hashlib.sha256(weights).hexdigest()
    config = json.loads((merged_dir / "config.json").read_text())
    assert "quantization_config" not in config
    assert not list(merged_dir.glob("adapter_*")), "a plain model, not a peft adapter"


def test_bf16_export_saves_bf16_weights(tiny_location, tiny_tokenizer, adapter_dir, tmp_path):
    record = describe_export(tiny_location, "grpo", adapter_dir, "bf16")
    save_merged(merge_adapter(tiny_location, adapter_dir), tiny_tokenizer, tmp_path / "m", record)
    with safe_open(tmp_path / "m" / "model.safetensors", framework="pt") as weights:
        dtypes = {weights.get_slice(name).get_dtype() for name in weights.keys()}  # noqa: SIM118
    assert dtypes == {"BF16"}
    assert json.loads((tmp_path / "m" / "config.json").read_text())["dtype"] == "bfloat16"
