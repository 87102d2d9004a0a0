"""What GRPO checks before any weight loads: rewards, backend, adapter, precision."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from conftest import changed, grpo_params
from mathtune.core.params import ParamsError
from mathtune.models.generation import GenerationError
from mathtune.rl.setup import check_grpo, reward_functions
from mathtune.rl.trainer import copy_sft_adapter
from mathtune.sft.trainer import TrainingError, TrainingSetup, check_training


def test_check_resolves_what_check_training_does_and_the_rewards(tiny_model_dir, grpo_inputs):
    params = grpo_params(tiny_model_dir, rewards={"format": 0.5, "accuracy": 1.0})
    setup = check_grpo(params, grpo_inputs)
    assert isinstance(setup, TrainingSetup)
    training = check_training(params)
    assert (setup.location, setup.precision) == (training.location, training.precision)
    assert list(setup.rewards) == ["format", "accuracy"]
    assert setup.rewards["accuracy"].__name__ == "accuracy_reward"


def test_fp16_without_a_gpu_is_refused_before_anything_loads(tiny_model_dir, grpo_inputs):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    params = grpo_params(tiny_model_dir)
    params = changed(params, model=changed(params.model, precision="fp16"))
    with pytest.raises(TrainingError, match="model.precision = 'fp16' needs a GPU"):
        check_grpo(params, grpo_inputs)


def test_reward_functions_follow_params_order_and_reject_unknown_names(tiny_model_dir):
    grpo = grpo_params(tiny_model_dir, rewards={"format": 0.5, "accuracy": 1.0}).grpo
    assert list(reward_functions(grpo)) == ["format", "accuracy"]
    typo = changed(grpo, rewards={"accuracy": 1.0, "formatting": 0.2})
    with pytest.raises(ParamsError, match="grpo.rewards names 'formatting'.*Allowed: accuracy"):
        reward_functions(typo)


def test_vllm_backend_without_a_gpu_is_refused_with_the_fix(tiny_model_dir, grpo_inputs):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    params = grpo_params(tiny_model_dir, backend="vllm")
    with pytest.raises(GenerationError, match="needs a CUDA GPU.*grpo.backend: transformers"):
        check_grpo(params, grpo_inputs)


def test_check_refuses_an_adapter_of_another_base_model(tiny_model_dir, grpo_inputs, tmp_path):
    config_file = tmp_path / "adapter" / "adapter_config.json"
    copy_sft_adapter(dataclasses.replace(grpo_inputs, adapter_dir=tmp_path / "adapter"))
    config = json.loads(config_file.read_text())
    config_file.write_text(json.dumps(config | {"base_model_name_or_path": "hub:other@1"}))
    paths = dataclasses.replace(grpo_inputs, sft_adapter_dir=tmp_path / "adapter")
    with pytest.raises(Exception, match="was trained on 'hub:other@1'"):
        check_grpo(grpo_params(tiny_model_dir), paths)
