"""Batches: flattened or padded, the same loss; the end-of-turn token stays in it."""

from __future__ import annotations

import doctest

import torch

import mathtune.sft.batches
from mathtune.models.prompts import end_of_turn_token_id
from mathtune.sft.batches import PaddedCollator, build_collator


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
