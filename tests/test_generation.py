"""Batched generation: order, stop ids, truncation, seeded sampling, adapters, backend checks."""

from __future__ import annotations

import copy
import doctest
import shutil
from pathlib import Path

import pytest
import torch
import yaml
from transformers import GenerationConfig

import mathtune.generation
from conftest import model_params, save_random_adapter
from mathtune.decoding import Decoding, GenerationError, Request, stop_token_ids
from mathtune.generation import (
    batch_seed,
    check_backend,
    cut_at_stop,
    generate_answers,
    generate_batched,
    prepare_for_generation,
)
from mathtune.models import (
    ModelLoadError,
    add_lora_adapter,
    load_base_model,
    load_tokenizer,
    locate_model,
)
from mathtune.params import EvaluateParams, LoraParams, build_params
from mathtune.prompts import format_prompt

PROBLEMS = [
    "What is 2 + 3?",
    "Tom has 23 apples and gets 15 more. How many apples does Tom have now?",
    "Solve x + 1 = 4.",
    "A rectangle is 3 by 4. What is its area, and what is its perimeter in centimetres?",
    "Compute 7 * 6.",
]
MAX_NEW_TOKENS = 6
GREEDY = Decoding(MAX_NEW_TOKENS)


@pytest.fixture(scope="module")
def location(tiny_model_dir):
    return locate_model(model_params(source="local", local_dir=str(tiny_model_dir)))


@pytest.fixture(scope="module")
def tokenizer(location):
    return load_tokenizer(location)


@pytest.fixture(scope="module")
def model(location):
    return prepare_for_generation(load_base_model(location), "fp32")


@pytest.fixture(scope="module")
def prompts(tokenizer):
    return [format_prompt(tokenizer, problem) for problem in PROBLEMS]


def evaluate_params(**changes) -> EvaluateParams:
    """params.yaml's evaluate section with `changes` applied."""
    raw = yaml.safe_load((Path(__file__).resolve().parents[1] / "params.yaml").read_text())
    raw["evaluate"].update(changes)
    return build_params(raw).evaluate


def force_logits(model, token_ids: list[int], value: float):
    """Hook the LM head so `token_ids` always get logit `value`; returns the handle."""
    index = torch.tensor(token_ids)
    return model.lm_head.register_forward_hook(
        lambda module, inputs, logits: logits.index_fill(-1, index, value)
    )


@pytest.mark.parametrize(
    "tokens, expected",
    [
        ([5, 6, 2, 2, 2], ([5, 6], True)),  # stop, then the padding of a finished row
        ([5, 6, 8], ([5, 6, 8], False)),  # cut at max_new_tokens
        ([7], ([], True)),  # the end-of-turn id stops as well as eos
        ([], ([], False)),
    ],
)
def test_cut_at_stop(tokens, expected):
    assert cut_at_stop(tokens, {2, 7}) == expected


def load_tokenizer_with_eos(tokenizer, eos_token: str):
    """A copy of `tokenizer` whose eos is not the end-of-turn token, as in Qwen2.5 base."""
    changed = copy.deepcopy(tokenizer)
    changed.eos_token = eos_token
    changed.pad_token = eos_token
    return changed


def test_batched_results_come_back_in_input_order(model, tokenizer):
    # Raw texts of different lengths and last words: the random tied-embedding model mostly
    # repeats the last token, so each continuation differs and a mix-up would show.
    texts = ["Two plus three is", "Tom has 23 apples and gets 15 more apples", "x", "A b c d e f"]
    one_by_one = generate_batched(model, tokenizer, texts, GREEDY, batch_size=1)
    batched = generate_batched(model, tokenizer, texts, GREEDY, batch_size=3)
    assert batched == one_by_one
    assert len({generation.text for generation in batched}) == len(texts)


def test_model_that_never_stops_is_cut_and_counted_as_truncated(model, tokenizer, prompts):
    handle = force_logits(model, stop_token_ids(tokenizer), float("-inf"))
    try:
        generations = generate_batched(model, tokenizer, prompts, GREEDY, batch_size=3)
    finally:
        handle.remove()
    assert all(generation.truncated for generation in generations)
    assert all(generation.generated_tokens == MAX_NEW_TOKENS for generation in generations)


def test_end_of_turn_token_stops_generation_when_it_is_not_eos(model, tokenizer, prompts):
    qwen_like = load_tokenizer_with_eos(tokenizer, "<|endoftext|>")
    handle = force_logits(model, [qwen_like.convert_tokens_to_ids("<|im_end|>")], 1e4)
    try:
        generations = generate_batched(model, qwen_like, prompts, GREEDY, batch_size=2)
    finally:
        handle.remove()
    assert {(g.text, g.generated_tokens, g.truncated) for g in generations} == {("", 1, False)}


def test_checkpoint_sampling_defaults_neither_change_nor_warn(model, tokenizer, capfd):
    texts = ["Two plus three is", "x"]  # the random model repeats these last tokens
    expected = generate_batched(model, tokenizer, texts, GREEDY, batch_size=2)
    model.generation_config = GenerationConfig(
        do_sample=True, temperature=0.7, top_p=0.8, top_k=20, repetition_penalty=5.0
    )
    try:
        assert generate_batched(model, tokenizer, texts, GREEDY, 2) == expected
    finally:
        model.generation_config = GenerationConfig()
    assert "generation flags" not in capfd.readouterr().err


def test_base_pass_has_the_adapters_off_and_no_checkpoint_defaults(
    tiny_model_dir, tmp_path, model, tokenizer, prompts
):
    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    # Would change the output if it leaked: the random model repeats tokens.
    GenerationConfig(no_repeat_ngram_size=1, repetition_penalty=5.0).save_pretrained(model_dir)
    location = locate_model(model_params(source="local", local_dir=str(model_dir)))
    save_random_adapter(location, tmp_path / "sft", seed=0)
    save_random_adapter(location, tmp_path / "grpo", seed=1)
    adapters = {"sft": tmp_path / "sft", "grpo": tmp_path / "grpo"}
    requests = [Request("seen", PROBLEMS, GREEDY), Request("heldout", PROBLEMS[:2], GREEDY)]
    answers = generate_answers(location, adapters, requests, evaluate_params(batch_size=2), "fp32")
    assert list(answers) == ["base", "sft", "grpo"]
    expected = generate_batched(model, tokenizer, prompts, GREEDY, 2)
    assert answers["base"]["seen"] == [[generation] for generation in expected]
    assert answers["base"]["heldout"] == answers["base"]["seen"][:2]
    assert answers["sft"]["seen"] != answers["base"]["seen"]
    assert answers["grpo"]["seen"] != answers["sft"]["seen"], "each adapter alone in its pass"
    # The same adapter loaded alone answers as it does next to another one.
    alone = generate_answers(
        location, {"grpo": tmp_path / "grpo"}, requests[:1], evaluate_params(batch_size=2), "fp32"
    )
    assert alone["grpo"]["seen"] == answers["grpo"]["seen"]


def test_sampling_is_seeded_and_gives_each_problem_its_draws(location, tmp_path):
    sampled = Decoding(MAX_NEW_TOKENS, samples=3, temperature=1.0, top_p=1.0, seed=5)
    requests = [Request("bench/sampled", PROBLEMS[:2], sampled)]
    evaluate = evaluate_params(batch_size=2)
    first = generate_answers(location, {}, requests, evaluate, "fp32")["base"]["bench/sampled"]
    again = generate_answers(location, {}, requests, evaluate, "fp32")["base"]["bench/sampled"]
    assert [len(completions) for completions in first] == [3, 3]
    assert first == again, "same seed, same samples"
    assert len({g.text for g in first[0]}) > 1, "draws differ from one another"
    other_seed = [Request("bench/sampled", PROBLEMS[:2], Decoding(MAX_NEW_TOKENS, 3, 1.0, 1.0, 6))]
    assert (
        generate_answers(location, {}, other_seed, evaluate, "fp32")["base"]["bench/sampled"]
        != first
    )


def test_a_sampled_batch_draws_the_same_tokens_whatever_ran_before(model, tokenizer, prompts):
    # Under several processes a rank runs some batches and not others: a batch's samples
    # must depend on (seed, draw, batch index) alone, not on the random state left before.
    sampled = Decoding(MAX_NEW_TOKENS, samples=2, temperature=1.0, top_p=1.0, seed=5)
    torch.manual_seed(1)
    first = generate_batched(model, tokenizer, prompts, sampled, batch_size=2, draw=1)
    torch.manual_seed(2)
    assert generate_batched(model, tokenizer, prompts, sampled, batch_size=2, draw=1) == first
    assert generate_batched(model, tokenizer, prompts, sampled, batch_size=2, draw=0) != first


def test_batch_seeds_differ_for_every_seed_draw_and_batch():
    triples = [(seed, draw, batch) for seed in range(3) for draw in range(3) for batch in range(3)]
    assert len({batch_seed(*triple) for triple in triples}) == len(triples)


def test_transformers_backend_runs_without_vllm_and_with_the_embedded_model(monkeypatch):
    monkeypatch.setattr("mathtune.generation.find_spec", lambda name: None)
    # Both would stop the vllm backend (see the two tests below); transformers needs neither.
    check_backend(evaluate_params(backend="transformers"), model_params(source="embedded"))


def test_missing_vllm_names_the_install_and_the_gpu(monkeypatch):
    monkeypatch.setattr("mathtune.generation.find_spec", lambda name: None)
    with pytest.raises(GenerationError, match=r"`make setup-gpu`.*NVIDIA GPU"):
        check_backend(evaluate_params(backend="vllm"), model_params(source="hub"))


def test_vllm_refuses_the_embedded_gguf_model(monkeypatch):
    monkeypatch.setattr("mathtune.generation.find_spec", lambda name: object())
    with pytest.raises(GenerationError, match="model.source to hub or local"):
        check_backend(evaluate_params(backend="vllm"), model_params(source="embedded"))


def test_vllm_backend_checks_the_adapter_base_before_importing_vllm(tiny_model_dir, tmp_path):
    location = locate_model(model_params(source="local", local_dir=str(tiny_model_dir)))
    adapter = add_lora_adapter(load_base_model(location), LoraParams(4, 8, 0.0, ["q_proj"]))
    adapter.peft_config["default"].base_model_name_or_path = "hub:Qwen/Qwen2.5-0.5B@abc"
    adapter.save_pretrained(tmp_path / "adapter")
    requests = [Request("seen", PROBLEMS, GREEDY)]
    # vllm is not installed here: reaching its import would raise ImportError instead.
    with pytest.raises(ModelLoadError, match="was trained on 'hub:Qwen"):
        generate_answers(
            location,
            {"sft": tmp_path / "adapter"},
            requests,
            evaluate_params(backend="vllm"),
            "fp32",
        )


def test_doctests_pass():
    assert doctest.testmod(mathtune.generation).failed == 0
