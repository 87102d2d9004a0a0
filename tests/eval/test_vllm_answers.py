"""vLLM's LoRA rank slots (vllm itself needs a GPU: its generation runs on GPU machines only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mathtune.eval.vllm_answers import vllm_lora_rank
from mathtune.models.generation import GenerationError


@pytest.mark.parametrize(("rank", "vllm_rank"), [(1, 8), (16, 16), (17, 32), (512, 512)])
def test_vllm_lora_rank_is_the_smallest_preallocated_rank_that_fits(rank, vllm_rank):
    assert vllm_lora_rank(Path("models/adapter"), rank) == vllm_rank


def test_adapter_rank_above_vllm_limit_names_the_fix():
    with pytest.raises(GenerationError, match="smaller train.lora.r"):
        vllm_lora_rank(Path("models/adapter"), 1024)
