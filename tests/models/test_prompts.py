"""The prompt: the chat template (ChatML when a tokenizer has none) and the end-of-turn token."""

from __future__ import annotations

import copy

import pytest

from mathtune.models.prompts import INSTRUCTION, end_of_turn_token_id, format_prompt


@pytest.fixture(scope="module")
def templateless_tokenizer(embedded_tokenizer):
    # Qwen2.5 base checkpoints saved by older tools can come without a chat template.
    tokenizer = copy.deepcopy(embedded_tokenizer)
    tokenizer.chat_template = None
    return tokenizer


@pytest.mark.parametrize("fixture", ["embedded_tokenizer", "templateless_tokenizer"])
def test_prompt_asks_for_a_boxed_answer_and_opens_the_assistant_turn(fixture, request):
    tokenizer = request.getfixturevalue(fixture)
    prompt = format_prompt(tokenizer, "  What is 2 + 3?  ")
    assert "What is 2 + 3?\n\n" + INSTRUCTION in prompt
    assert prompt.endswith("<|im_start|>assistant\n")


def test_end_of_turn_token_is_im_end_for_chatml_models(embedded_tokenizer):
    assert embedded_tokenizer.convert_ids_to_tokens(end_of_turn_token_id(embedded_tokenizer)) == (
        "<|im_end|>"
    )
