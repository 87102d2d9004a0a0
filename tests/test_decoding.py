"""Stop tokens and decoding settings shared by both generation backends."""

from __future__ import annotations

import pytest
from test_generation import load_tokenizer_with_eos

from mathtune.decoding import Decoding, stop_token_ids


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
