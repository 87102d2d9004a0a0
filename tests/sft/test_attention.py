"""Attention within each flattened example: the logits and gradients of one-at-a-time runs."""

from __future__ import annotations

import pytest
import torch

from mathtune.sft.attention import SEGMENT_ATTENTION
from mathtune.sft.batches import build_collator
from mathtune.sft.examples import IGNORE_INDEX


@pytest.mark.parametrize("attention", ["sdpa", SEGMENT_ATTENTION])
@pytest.mark.parametrize("architecture", ["tiny_llama", "tiny_qwen2"])
def test_flattened_batch_matches_per_sequence_runs(architecture, attention, features, request):
    model = request.getfixturevalue(architecture).eval()
    model.set_attn_implementation(attention)
    model.config.use_cache = False  # with a cache, sdpa would not split at position resets
    batch = build_collator(pad_token_id=0, padding_free=True)(features)
    with torch.no_grad():
        packed = model(**batch)
        model.set_attn_implementation("sdpa")
        singles = [model(**_as_batch(feature)) for feature in features]
    starts = torch.cumsum(torch.tensor([0] + [len(f["input_ids"]) for f in features]), 0)
    for index, single in enumerate(singles):
        segment = packed.logits[0, starts[index] : starts[index + 1]]
        torch.testing.assert_close(segment, single.logits[0], atol=1e-5, rtol=1e-5)
    # The batch loss is the mean over all target tokens, so weight each run by its token count.
    counts = [sum(label != IGNORE_INDEX for label in f["labels"][1:]) for f in features]
    expected = sum(s.loss * n for s, n in zip(singles, counts, strict=True)) / sum(counts)
    torch.testing.assert_close(packed.loss, expected, atol=1e-5, rtol=1e-5)


def test_segment_attention_gets_gradients_like_per_sequence_runs(tiny_llama, features):
    tiny_llama.config.use_cache = False
    weight = tiny_llama.model.layers[0].self_attn.q_proj.weight
    gradients = []
    for attention, collate in ((SEGMENT_ATTENTION, True), ("sdpa", False)):
        tiny_llama.set_attn_implementation(attention)
        tiny_llama.zero_grad()
        tiny_llama(**build_collator(pad_token_id=0, padding_free=collate)(features)).loss.backward()
        gradients.append(weight.grad.clone())
    torch.testing.assert_close(gradients[0], gradients[1], atol=1e-6, rtol=1e-4)


def _as_batch(feature: dict[str, list[int]]) -> dict[str, torch.Tensor]:
    return {key: torch.tensor([value]) for key, value in feature.items()}
