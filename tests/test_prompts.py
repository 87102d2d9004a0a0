"""Prompts and targets: the chat template, the boxed final answer, masked prompt labels."""

from __future__ import annotations

import copy

import pytest

from mathtune.prompts import (
    IGNORE_INDEX,
    INSTRUCTION,
    end_of_turn_token_id,
    format_prompt,
    format_target,
    tokenize_examples,
)


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


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        # A written solution without a box gets the answer boxed after it.
        ("$2 + 2 = 4$.", "$2 + 2 = 4$.\n\nThe final answer is $\\boxed{4}$."),
        # One that boxes its answer already is kept as it is.
        ("So $\\boxed{4}$.", "So $\\boxed{4}$."),
        # A box inside the reasoning is no final answer: one is added after it.
        (
            "<think>maybe \\boxed{4}</think> It is 4.",
            "<think>maybe \\boxed{4}</think> It is 4.\n\nThe final answer is $\\boxed{4}$.",
        ),
    ],
)
def test_target_ends_with_exactly_one_boxed_final_answer(target, expected):
    assert format_target(target, "4") == expected


def test_end_of_turn_token_is_im_end_for_chatml_models(embedded_tokenizer):
    assert embedded_tokenizer.convert_ids_to_tokens(end_of_turn_token_id(embedded_tokenizer)) == (
        "<|im_end|>"
    )


def test_only_the_target_and_end_of_turn_are_learned(embedded_tokenizer):
    (example,) = tokenize_examples(embedded_tokenizer, ["What is 2 + 3?"], ["5."], ["5"], 512)
    prompt_length = len(
        embedded_tokenizer(format_prompt(embedded_tokenizer, "What is 2 + 3?"))["input_ids"]
    )
    assert example.labels[:prompt_length] == [IGNORE_INDEX] * prompt_length
    learned = example.input_ids[prompt_length:]
    assert example.labels[prompt_length:] == learned
    assert learned[-1] == end_of_turn_token_id(embedded_tokenizer)
    assert "\\boxed{5}" in embedded_tokenizer.decode(learned)
    assert not example.truncated


def test_long_examples_are_cut_from_the_right_and_flagged(embedded_tokenizer):
    (example,) = tokenize_examples(embedded_tokenizer, ["2 + 3?"], ["step " * 100], ["5"], 40)
    assert len(example.input_ids) == len(example.labels) == 40
    assert example.truncated
