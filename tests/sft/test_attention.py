"""Attention within each flattened example: the logits and gradients of one-at-a-time runs,
the varlen kernel's arguments, and the choice of kernel."""

from __future__ import annotations

import logging

import pytest
import torch
import torch.nn.functional as F

from mathtune.sft import attention as attention_module
from mathtune.sft.attention import (
    SEGMENT_ATTENTION,
    VARLEN_ATTENTION,
    AttentionError,
    choose_attention,
    use_attention,
)
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


def test_changing_one_example_leaves_the_others_bit_identical(tiny_qwen2, features):
    model = tiny_qwen2.eval()
    model.set_attn_implementation(SEGMENT_ATTENTION)
    model.config.use_cache = False
    collate = build_collator(pad_token_id=0, padding_free=True)
    changed = [dict(feature) for feature in features]
    changed[1]["input_ids"] = [(token + 1) % 1000 for token in changed[1]["input_ids"]]
    with torch.no_grad():
        logits = [model(**collate(batch)).logits[0] for batch in (features, changed)]
    lengths = [len(feature["input_ids"]) for feature in features]
    first, second = lengths[0], lengths[0] + lengths[1]
    assert torch.equal(logits[0][:first], logits[1][:first])
    assert torch.equal(logits[0][second:], logits[1][second:])
    assert not torch.equal(logits[0][first:second], logits[1][first:second])


def reference_varlen(query, key, value, cu_seq_q, cu_seq_k, max_q, max_k, *, scale=None, **causal):
    """What torch's CUDA kernel computes, on the CPU: causal SDPA per example."""
    assert isinstance(max_q, int) and isinstance(max_k, int), "no device-to-host copy"
    assert cu_seq_q is cu_seq_k
    gqa = causal.pop("enable_gqa", False)
    assert causal in ({"is_causal": True}, {"window_size": (-1, 0)})
    edges = cu_seq_q.tolist()
    outputs = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        q, k, v = (tensor[a:b].transpose(0, 1) for tensor in (query, key, value))
        outputs.append(
            F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=scale, enable_gqa=gqa)
        )
    return torch.cat(outputs, dim=1).transpose(0, 1)


def torch_2_10_varlen(
    query, key, value, cu_seq_q, cu_seq_k, max_q, max_k, *, scale=None, is_causal=False
):
    assert key.shape[1] == query.shape[1], "torch 2.10 has no enable_gqa: heads repeated"
    return reference_varlen(
        query, key, value, cu_seq_q, cu_seq_k, max_q, max_k, scale=scale, is_causal=is_causal
    )


def torch_2_11_varlen(
    query,
    key,
    value,
    cu_seq_q,
    cu_seq_k,
    max_q,
    max_k,
    *,
    scale=None,
    window_size=(-1, -1),
    enable_gqa=False,
):
    return reference_varlen(
        query,
        key,
        value,
        cu_seq_q,
        cu_seq_k,
        max_q,
        max_k,
        scale=scale,
        window_size=window_size,
        enable_gqa=enable_gqa,
    )


@pytest.mark.parametrize("kernel", [torch_2_10_varlen, torch_2_11_varlen])
def test_varlen_attention_passes_the_collator_boundaries_in_each_torch_form(
    kernel, tiny_qwen2, features, monkeypatch
):
    # torch's varlen kernel runs on CUDA only; a CPU kernel with the same signature checks
    # the layout, the causal argument, grouped-query heads and the boundaries it is given.
    monkeypatch.setattr(attention_module, "varlen_attn", kernel)
    model = tiny_qwen2.eval()
    model.config.use_cache = False
    batch = build_collator(pad_token_id=0, padding_free=True)(features)
    assert isinstance(batch["max_length_q"], int)
    with torch.no_grad():
        model.set_attn_implementation(VARLEN_ATTENTION)
        varlen = model(**batch)
        model.set_attn_implementation(SEGMENT_ATTENTION)
        segments = model(**batch)
    torch.testing.assert_close(varlen.logits, segments.logits, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(varlen.loss, segments.loss, atol=1e-6, rtol=1e-6)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine runs the varlen kernel")
def test_auto_takes_segments_on_a_cpu_and_sdpa_for_padded_batches():
    assert choose_attention("auto", padding_free=True) == "segments"
    assert choose_attention("auto", padding_free=False) == "sdpa"
    assert choose_attention("segments", padding_free=True) == "segments"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine runs the varlen kernel")
def test_forced_varlen_without_a_gpu_stops_naming_the_fix():
    with pytest.raises(AttentionError) as caught:
        choose_attention("varlen", padding_free=True)
    assert "no CUDA GPU" in str(caught.value)
    assert "Fix: train.attention: auto" in str(caught.value)


def test_the_chosen_kernel_is_set_and_logged(tiny_qwen2, caplog):
    with caplog.at_level(logging.INFO, logger="mathtune.sft.attention"):
        chosen = use_attention(tiny_qwen2, "sdpa", padding_free=True)
    assert chosen == "sdpa"
    assert tiny_qwen2.config._attn_implementation == "sdpa"
    assert "attention: sdpa (train.attention = sdpa, padding-free batches)" in caplog.text
