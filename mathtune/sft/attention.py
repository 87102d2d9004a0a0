"""Attention within each example of a padding-free (flattened) batch.

Padding-free puts a whole batch into one row, restarts `position_ids` at every example and
passes the example boundaries (`cu_seq_lens_q`). `segment_attention` then runs causal SDPA
on each example alone, so attention costs the sum of the squared example lengths. Plain
`sdpa` would instead build a block-diagonal mask from the position resets and compute the
square of the whole row's length: on a CPU that cancels the gain for batches of long traces
(benchmarks/bench_training.py).
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import AttentionInterface, PreTrainedModel
from transformers.integrations.sdpa_attention import sdpa_attention_forward

SEGMENT_ATTENTION = "sdpa_segments"  # the name models know segment_attention by


def segment_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """Causal SDPA over each flattened example on its own; plain SDPA without boundaries.

    Shapes as for every transformers attention function: query (1, heads, tokens, dim) in,
    (1, tokens, heads, dim) out. Boundaries come from the collator's `cu_seq_lens_q`.
    """
    boundaries = kwargs.pop("cu_seq_lens_q", None)
    if boundaries is None or attention_mask is not None:
        return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)
    edges = boundaries.tolist()
    outputs = [
        sdpa_attention_forward(
            module, query[:, :, a:b], key[:, :, a:b], value[:, :, a:b], None, **kwargs
        )[0]
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    return torch.cat(outputs, dim=1), None


def use_segment_attention(model: PreTrainedModel) -> None:
    """Make `model` attend within each flattened example (call before training)."""
    model.set_attn_implementation(SEGMENT_ATTENTION)


AttentionInterface.register(SEGMENT_ATTENTION, segment_attention)
