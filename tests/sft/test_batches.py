"""Batches: flattened or padded, the same loss; the end-of-turn token stays in it."""

from __future__ import annotations

import doctest
import random

import torch

import mathtune.sft.batches
from mathtune.models.prompts import end_of_turn_token_id
from mathtune.sft.batches import PACK_KEY, PaddedCollator, build_collator, pack_by_tokens


def test_doctests_pass():
    assert doctest.testmod(mathtune.sft.batches).failed == 0


def test_padded_batch_gives_the_flattened_loss(tiny_llama, features):
    tiny_llama.config.use_cache = False
    with torch.no_grad():
        padded = tiny_llama(**build_collator(pad_token_id=0, padding_free=False)(features))
        packed = tiny_llama(**build_collator(pad_token_id=0, padding_free=True)(features))
    torch.testing.assert_close(padded.loss, packed.loss, atol=1e-5, rtol=1e-5)


def test_end_of_turn_token_stays_in_the_loss_although_it_is_the_pad_token(
    embedded_tokenizer, features
):
    end_of_turn = end_of_turn_token_id(embedded_tokenizer)
    assert end_of_turn == embedded_tokenizer.pad_token_id  # SmolLM2: pad = eos = <|im_end|>
    for padding_free in (True, False):
        collate = build_collator(embedded_tokenizer.pad_token_id, padding_free)
        labels = collate(features)["labels"]
        assert int((labels == end_of_turn).sum()) == len(features), padding_free


def test_padded_collator_pads_on_the_right_and_masks_pads_by_position():
    batch = PaddedCollator(pad_token_id=9)(
        [{"input_ids": [1, 9], "labels": [-100, 9]}, {"input_ids": [3], "labels": [3]}]
    )
    assert batch["input_ids"].tolist() == [[1, 9], [3, 9]]
    assert batch["labels"].tolist() == [[-100, 9], [3, -100]]  # a real 9 is learned, a pad not
    assert batch["attention_mask"].tolist() == [[1, 1], [1, 0]]


def test_packs_hold_every_example_once_within_the_budget_the_same_for_a_seed():
    lengths = [random.Random(index).randint(5, 60) for index in range(200)]
    features = [{"input_ids": [index] * length} for index, length in enumerate(lengths)]
    packs = pack_by_tokens(features, budget=128, seed=3)
    sizes = [sum(len(example["input_ids"]) for example in pack[PACK_KEY]) for pack in packs]
    assert max(sizes) <= 128
    assert sum(sizes) == sum(lengths)
    seen = sorted(example["input_ids"][0] for pack in packs for example in pack[PACK_KEY])
    assert seen == list(range(200))
    assert len(packs) < len(features) / 2  # short examples share packs
    assert pack_by_tokens(features, budget=128, seed=3) == packs
    assert pack_by_tokens(features, budget=128, seed=4) != packs


def test_a_batch_of_packs_is_the_flattened_batch_of_their_examples(features):
    packs = pack_by_tokens(features, budget=10_000, seed=0)
    examples = packs[0][PACK_KEY]
    from_packs = build_collator(pad_token_id=0, padding_free=True, packed=True)(packs)
    from_examples = build_collator(pad_token_id=0, padding_free=True)(examples)
    assert from_packs.keys() == from_examples.keys()
    for key, value in from_examples.items():
        assert (
            torch.equal(from_packs[key], value)
            if torch.is_tensor(value)
            else from_packs[key] == value
        )
