"""Batched generation: order, stop ids, truncation, seeded sampling, adapters, backend checks."""

from __future__ import annotations

import doctest

import pytest
import torch
from transformers import GenerationConfig

import mathtune.models.generation
from conftest import TINY_NEW_TOKENS, load_tokenizer_with_eos
from mathtune.models.generation import (
    Decoding,
    GenerationError,
    batch_seed,
    check_vllm,
    cut_at_stop,
    generate_batched,
    stop_token_ids,
)

GREEDY = Decoding(TINY_NEW_TOKENS)


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


def test_batched_results_come_back_in_input_order(tiny_generator, tiny_tokenizer):
    # Raw texts of different lengths and last words: the random tied-embedding tiny_generator mostly
    # repeats the last token, so each continuation differs and a mix-up would show.
    texts = ["Two plus three is", "Tom has 23 apples and gets 15 more apples", "x", "A b c d e f"]
    one_by_one = generate_batched(tiny_generator, tiny_tokenizer, texts, GREEDY, batch_size=1)
    batched = generate_batched(tiny_generator, tiny_tokenizer, texts, GREEDY, batch_size=3)
    assert batched == one_by_one
    assert len({generation.text for generation in batched}) == len(texts)


def test_model_that_never_stops_is_cut_and_counted_as_truncated(
    tiny_generator, tiny_tokenizer, tiny_prompts
):
    handle = force_logits(tiny_generator, stop_token_ids(tiny_tokenizer), float("-inf"))
    try:
        generations = generate_batched(
            tiny_generator, tiny_tokenizer, tiny_prompts, GREEDY, batch_size=3
        )
    finally:
        handle.remove()
    assert all(generation.truncated for generation in generations)
    assert all(generation.generated_tokens == TINY_NEW_TOKENS for generation in generations)


def test_end_of_turn_token_stops_generation_when_it_is_not_eos(
    tiny_generator, tiny_tokenizer, tiny_prompts
):
    qwen_like = load_tokenizer_with_eos(tiny_tokenizer, "<|endoftext|>")
    handle = force_logits(tiny_generator, [qwen_like.convert_tokens_to_ids("<|im_end|>")], 1e4)
    try:
        generations = generate_batched(
            tiny_generator, qwen_like, tiny_prompts, GREEDY, batch_size=2
        )
    finally:
        handle.remove()
    assert {(g.text, g.generated_tokens, g.truncated) for g in generations} == {("", 1, False)}


def test_checkpoint_sampling_defaults_neither_change_nor_warn(
    tiny_generator, tiny_tokenizer, capfd
):
    texts = ["Two plus three is", "x"]  # the random tiny_generator repeats these last tokens
    expected = generate_batched(tiny_generator, tiny_tokenizer, texts, GREEDY, batch_size=2)
    tiny_generator.generation_config = GenerationConfig(
        do_sample=True, temperature=0.7, top_p=0.8, top_k=20, repetition_penalty=5.0
    )
    try:
        assert generate_batched(tiny_generator, tiny_tokenizer, texts, GREEDY, 2) == expected
    finally:
        tiny_generator.generation_config = GenerationConfig()
    assert "generation flags" not in capfd.readouterr().err


def test_a_sampled_batch_draws_the_same_tokens_whatever_ran_before(
    tiny_generator, tiny_tokenizer, tiny_prompts
):
    # Under several processes a rank runs some batches and not others: a batch's samples
    # must depend on (seed, draw, batch index) alone, not on the random state left before.
    sampled = Decoding(TINY_NEW_TOKENS, samples=2, temperature=1.0, top_p=1.0, seed=5)
    torch.manual_seed(1)
    first = generate_batched(
        tiny_generator, tiny_tokenizer, tiny_prompts, sampled, batch_size=2, draw=1
    )
    torch.manual_seed(2)
    assert (
        generate_batched(
            tiny_generator, tiny_tokenizer, tiny_prompts, sampled, batch_size=2, draw=1
        )
        == first
    )
    assert (
        generate_batched(
            tiny_generator, tiny_tokenizer, tiny_prompts, sampled, batch_size=2, draw=0
        )
        != first
    )


def test_batch_seeds_differ_for_every_seed_draw_and_batch():
    triples = [(seed, draw, batch) for seed in range(3) for draw in range(3) for batch in range(3)]
    assert len({batch_seed(*triple) for triple in triples}) == len(triples)


def test_vllm_without_a_gpu_says_so_first(monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    with pytest.raises(GenerationError, match=r"evaluate.backend = 'vllm' needs a CUDA GPU"):
        check_vllm("evaluate.backend", "hub")


def test_missing_vllm_names_the_install_and_the_gpu(monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    monkeypatch.setattr("mathtune.models.generation.find_spec", lambda name: None)
    with pytest.raises(GenerationError, match=r"`make setup-gpu`.*NVIDIA GPU"):
        check_vllm("evaluate.backend", "hub")


def test_vllm_refuses_the_embedded_gguf_model(monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    monkeypatch.setattr("mathtune.models.generation.find_spec", lambda name: object())
    with pytest.raises(
        GenerationError, match="grpo.backend = 'vllm'.*model.source to hub or local"
    ):
        check_vllm("grpo.backend", "embedded")


def test_doctests_pass():
    assert doctest.testmod(mathtune.models.generation).failed == 0


def test_stop_ids_hold_eos_and_end_of_turn_when_they_differ(embedded_tokenizer):
    tokenizer = embedded_tokenizer
    im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert stop_token_ids(tokenizer) == [im_end]  # SmolLM2: eos is <|im_end|>
    qwen_like = load_tokenizer_with_eos(tokenizer, "<|endoftext|>")
    assert stop_token_ids(qwen_like) == sorted({qwen_like.eos_token_id, im_end})


@pytest.mark.parametrize(
    "decoding, greedy",
    [
        (Decoding(64), True),
        (Decoding(64, samples=4, temperature=0.6, top_p=0.95, seed=1), False),
    ],
)
def test_temperature_zero_is_greedy(decoding, greedy):
    assert decoding.greedy is greedy
