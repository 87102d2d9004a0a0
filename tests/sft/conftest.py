"""Fixtures of the SFT tests: three tokenized examples and two tiny architectures."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, Qwen2Config, Qwen2ForCausalLM

from mathtune.sft.examples import tokenize_examples

PROBLEMS = ["What is 2 + 3?", "Tom has 7 apples and eats 2. How many are left?", "Compute 9 * 9."]
TARGETS = ["$2 + 3 = 5$.", "He has $7 - 2 = 5$ apples left.", "$9 \\cdot 9 = 81$, so 81."]
ANSWERS = ["5", "5", "81"]


@pytest.fixture(scope="module")
def features(embedded_tokenizer) -> list[dict[str, list[int]]]:
    examples = tokenize_examples(embedded_tokenizer, PROBLEMS, TARGETS, ANSWERS, max_length=512)
    return [{"input_ids": ex.input_ids, "labels": ex.labels} for ex in examples]


@pytest.fixture(scope="module")
def tiny_qwen2(embedded_tokenizer):
    # The real configuration's architecture (Qwen2: biased q/k/v projections), random weights.
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=len(embedded_tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
    )
    return Qwen2ForCausalLM(config)


@pytest.fixture(scope="module")
def tiny_llama(tiny_model_dir):
    return AutoModelForCausalLM.from_pretrained(tiny_model_dir)
