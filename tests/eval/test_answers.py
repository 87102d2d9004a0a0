"""The base model and each adapter answering every request, one model load."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from transformers import GenerationConfig

from conftest import TINY_NEW_TOKENS, TINY_PROBLEMS, model_params, save_random_adapter
from mathtune.core.params import EvaluateParams, LoraParams, build_params
from mathtune.eval.answers import check_backend, generate_answers
from mathtune.eval.requests import Request
from mathtune.models.generation import Decoding, generate_batched
from mathtune.models.loading import ModelLoadError, add_lora_adapter, load_base_model, locate_model

GREEDY = Decoding(TINY_NEW_TOKENS)


def evaluate_params(**changes) -> EvaluateParams:
    """params.yaml's evaluate section with `changes` applied."""
    raw = yaml.safe_load((Path(__file__).resolve().parents[2] / "params.yaml").read_text())
    raw["evaluate"].update(changes)
    return build_params(raw).evaluate


def test_base_pass_has_the_adapters_off_and_no_checkpoint_defaults(
    tiny_model_dir, tmp_path, tiny_generator, tiny_tokenizer, tiny_prompts
):
    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    # Would change the output if it leaked: the random model repeats tokens.
    GenerationConfig(no_repeat_ngram_size=1, repetition_penalty=5.0).save_pretrained(model_dir)
    location = locate_model(model_params(source="local", local_dir=str(model_dir)))
    save_random_adapter(location, tmp_path / "sft", seed=0)
    save_random_adapter(location, tmp_path / "grpo", seed=1)
    adapters = {"sft": tmp_path / "sft", "grpo": tmp_path / "grpo"}
    requests = [
        Request("seen", TINY_PROBLEMS, GREEDY),
        Request("heldout", TINY_PROBLEMS[:2], GREEDY),
    ]
    answers = generate_answers(location, adapters, requests, evaluate_params(batch_size=2), "fp32")
    assert list(answers) == ["base", "sft", "grpo"]
    expected = generate_batched(tiny_generator, tiny_tokenizer, tiny_prompts, GREEDY, 2)
    assert answers["base"]["seen"] == [[generation] for generation in expected]
    assert answers["base"]["heldout"] == answers["base"]["seen"][:2]
    assert answers["sft"]["seen"] != answers["base"]["seen"]
    assert answers["grpo"]["seen"] != answers["sft"]["seen"], "each adapter alone in its pass"
    # The same adapter loaded alone answers as it does next to another one.
    alone = generate_answers(
        location, {"grpo": tmp_path / "grpo"}, requests[:1], evaluate_params(batch_size=2), "fp32"
    )
    assert alone["grpo"]["seen"] == answers["grpo"]["seen"]


def test_sampling_is_seeded_and_gives_each_problem_its_draws(tiny_location, tmp_path):
    sampled = Decoding(TINY_NEW_TOKENS, samples=3, temperature=1.0, top_p=1.0, seed=5)
    requests = [Request("bench/sampled", TINY_PROBLEMS[:2], sampled)]
    evaluate = evaluate_params(batch_size=2)
    first = generate_answers(tiny_location, {}, requests, evaluate, "fp32")["base"]["bench/sampled"]
    again = generate_answers(tiny_location, {}, requests, evaluate, "fp32")["base"]["bench/sampled"]
    assert [len(completions) for completions in first] == [3, 3]
    assert first == again, "same seed, same samples"
    assert len({g.text for g in first[0]}) > 1, "draws differ from one another"
    other_seed = [
        Request("bench/sampled", TINY_PROBLEMS[:2], Decoding(TINY_NEW_TOKENS, 3, 1.0, 1.0, 6))
    ]
    assert (
        generate_answers(tiny_location, {}, other_seed, evaluate, "fp32")["base"]["bench/sampled"]
        != first
    )


def test_transformers_backend_runs_without_vllm_and_with_the_embedded_model(monkeypatch):
    monkeypatch.setattr("mathtune.models.generation.find_spec", lambda name: None)
    # Both would stop the vllm backend (see the two tests below); transformers needs neither.
    check_backend(evaluate_params(backend="transformers"), model_params(source="embedded"))


def test_vllm_backend_checks_the_adapter_base_before_importing_vllm(tiny_model_dir, tmp_path):
    location = locate_model(model_params(source="local", local_dir=str(tiny_model_dir)))
    adapter = add_lora_adapter(
        load_base_model(location), LoraParams(r=4, alpha=8, dropout=0.0, target_modules=["q_proj"])
    )
    adapter.peft_config["default"].base_model_name_or_path = "hub:Qwen/Qwen2.5-0.5B@abc"
    adapter.save_pretrained(tmp_path / "adapter")
    requests = [Request("seen", TINY_PROBLEMS, GREEDY)]
    # vllm is not installed here: reaching its import would raise ImportError instead.
    with pytest.raises(ModelLoadError, match="was trained on 'hub:Qwen"):
        generate_answers(
            location,
            {"sft": tmp_path / "adapter"},
            requests,
            evaluate_params(backend="vllm"),
            "fp32",
        )
