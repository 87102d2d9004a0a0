"""GRPO: TRL's real reward call path, prompt rendering, adapter saving, reproducibility."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from trl import GRPOTrainer

from conftest import grpo_params, make_rows, write_rows
from mathtune.models.loading import load_tokenizer, locate_model
from mathtune.models.prompts import format_prompt
from mathtune.rl.prompts import read_prompts
from mathtune.rl.setup import GrpoPaths, check_grpo, reward_functions
from mathtune.rl.trainer import build_grpo_config, chat_tokenizer, load_policy, train_grpo

WALL_CLOCK = {"grpo/runtime_s", "grpo/s_per_step", "grpo/completions_per_s"}


def output_paths(inputs: GrpoPaths, directory: Path) -> GrpoPaths:
    return dataclasses.replace(
        inputs, adapter_dir=directory / "grpo_adapter", checkpoint_dir=directory / "checkpoints"
    )


class RecordingReward:
    """Calls a real reward function and keeps the keyword arguments TRL passed."""

    def __init__(self, function) -> None:
        self.function = function
        self.__name__ = function.__name__
        self.calls: list[dict] = []

    def __call__(self, **kwargs) -> list[float]:
        self.calls.append(kwargs)
        return self.function(**kwargs)


def test_trl_calls_rewards_with_completions_ids_state_and_data_columns(
    tiny_model_dir, grpo_inputs, tmp_path
):
    params = grpo_params(tiny_model_dir, steps=1, rewards={"accuracy": 1.0})
    location = locate_model(params.model)
    tokenizer = load_tokenizer(location)
    recording = RecordingReward(reward_functions(params.grpo)["accuracy"])
    trainer = GRPOTrainer(
        model=load_policy(location, grpo_inputs.sft_adapter_dir, tokenizer),
        reward_funcs=[recording],
        args=build_grpo_config(
            params.grpo, {"bf16": False, "fp16": False}, tmp_path / "checkpoints", processes=1
        ),
        train_dataset=read_prompts(grpo_inputs.train).dataset,
        processing_class=chat_tokenizer(tokenizer),
    )
    trainer.train()
    (call,) = recording.calls
    count = params.grpo.prompts_per_step * params.grpo.generations_per_prompt
    for key in ("prompts", "completions", "completion_ids", "answer", "problem"):
        assert len(call[key]) == count, key
    assert call["trainer_state"] is trainer.state
    # each prompt's gold answer repeats for every generation of that prompt
    generations = params.grpo.generations_per_prompt
    assert call["answer"][0:generations] == [call["answer"][0]] * generations
    problem = call["problem"][0]
    assert call["answer"][0] == next(r["answer"] for r in make_rows(8) if r["problem"] == problem)
    assert call["completions"][0][0]["role"] == "assistant"
    assert all(isinstance(ids, list) for ids in call["completion_ids"])


def test_a_step_generates_all_its_completions_in_one_call_whatever_the_micro_batch(
    tiny_model_dir, grpo_inputs, tmp_path
):
    params = grpo_params(tiny_model_dir, steps=2, micro_batch=1)
    location = locate_model(params.model)
    tokenizer = load_tokenizer(location)
    model = load_policy(location, grpo_inputs.sft_adapter_dir, tokenizer)
    generated = []
    generate = model.generate

    def counting_generate(**inputs):
        generated.append(inputs["input_ids"].shape[0])
        return generate(**inputs)

    model.generate = counting_generate
    config = build_grpo_config(params.grpo, {"bf16": False, "fp16": False}, tmp_path, 1)
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=list(reward_functions(params.grpo).values()),
        args=config,
        train_dataset=read_prompts(grpo_inputs.train).dataset,
        processing_class=chat_tokenizer(tokenizer),
    )
    trainer.train()
    completions = params.grpo.prompts_per_step * params.grpo.generations_per_prompt
    assert generated == [completions] * params.grpo.steps  # one batched call a step
    assert config.per_device_train_batch_size == 1
    assert config.gradient_accumulation_steps == completions  # trained in passes of one
    assert trainer.state.global_step == params.grpo.steps


def test_trl_renders_prompts_exactly_as_sft_and_evaluation_do(embedded_tokenizer, tmp_path):
    row = read_prompts(write_rows(tmp_path / "train.parquet", make_rows(3))).dataset[1]
    # What GRPOTrainer._tokenize_prompts calls for conversational prompts.
    rendered = chat_tokenizer(embedded_tokenizer).apply_chat_template(
        conversation=[row["prompt"]], add_generation_prompt=True, tokenize=True, return_dict=True
    )["input_ids"][0]
    text = format_prompt(embedded_tokenizer, row["problem"])
    assert rendered == embedded_tokenizer(text, add_special_tokens=False)["input_ids"]


def test_beta_adds_kl_and_only_the_policy_adapter_is_saved(tiny_model_dir, grpo_inputs, tmp_path):
    params = grpo_params(tiny_model_dir, beta=0.1)
    paths = output_paths(grpo_inputs, tmp_path)
    result = train_grpo(params, check_grpo(params, paths), paths)
    assert "grpo/kl" in result.metrics
    # TRL's frozen reference copy ("ref") must not reach the output folder.
    assert sorted(path.name for path in paths.adapter_dir.iterdir()) == sorted(
        path.name for path in grpo_inputs.sft_adapter_dir.iterdir()
    )
    location = locate_model(params.model)
    load_policy(location, paths.adapter_dir, load_tokenizer(location))


def test_same_params_give_the_same_metrics(tiny_model_dir, grpo_inputs, tmp_path):
    params = grpo_params(tiny_model_dir, max_completion_length=16)
    runs = []
    for name in ("one", "two"):
        paths = output_paths(grpo_inputs, tmp_path / name)
        metrics = train_grpo(params, check_grpo(params, paths), paths).metrics
        runs.append({key: value for key, value in metrics.items() if key not in WALL_CLOCK})
        runs[-1]["adapter"] = (paths.adapter_dir / "adapter_model.safetensors").read_bytes()
    assert runs[0] == runs[1]
