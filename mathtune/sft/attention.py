"""Attention within each example of a padding-free (flattened) batch, and the choice of kernel.

Padding-free puts a whole batch into one row, restarts `position_ids` at every example and
passes the example boundaries (`cu_seq_lens_q`, `max_length_q`). Three kernels keep each
example to itself (`train.attention`):

  varlen   - torch's flash kernel for variable-length batches (`varlen_attn`, CUDA, torch
             >= 2.10): one call for the whole row, boundaries read on the GPU. 3.2x the
             tokens/s of `segments` on an H200 (docs/gpu.md).
  segments - causal SDPA on each example alone, so attention costs the sum of the squared
             example lengths. It reads the boundaries back to the host in every layer,
             which a CPU does not mind: the CPU's path.
  sdpa     - transformers' SDPA, which builds a block-diagonal mask from the position
             resets and computes the square of the whole row's length (the padded batches'
             kernel too).

`auto` takes varlen where it runs, segments elsewhere, and sdpa for padded batches.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

import torch
from transformers import AttentionInterface, PreTrainedModel
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from mathtune.core.errors import MathtuneError

try:  # torch >= 2.10
    from torch.nn.attention.varlen import varlen_attn
except ImportError:
    varlen_attn = None

logger = logging.getLogger(__name__)

SEGMENT_ATTENTION = "sdpa_segments"  # the names models know these functions by
VARLEN_ATTENTION = "torch_varlen"  # a name with "flash" would send transformers to flash-attn
KERNELS = {"varlen": VARLEN_ATTENTION, "segments": SEGMENT_ATTENTION, "sdpa": "sdpa"}


class AttentionError(MathtuneError):
    """The attention kernel params ask for cannot run here; the message says the fix."""


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


def varlen_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """torch's varlen flash kernel over the flattened row; plain SDPA without boundaries.

    The collator's boundaries (an int32 tensor, moved to the GPU with the batch) and its
    longest example (a Python int) go straight in, so no layer waits on a device-to-host copy.
    """
    boundaries = kwargs.get("cu_seq_lens_q")
    if boundaries is None or attention_mask is not None:
        return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)
    longest = kwargs["max_length_q"]
    # (1, heads, tokens, dim) -> (tokens, heads, dim), the kernel's layout
    query, key, value = (tensor[0].transpose(0, 1) for tensor in (query, key, value))
    options = varlen_options(varlen_attn)
    if "enable_gqa" not in options:  # torch 2.10: repeat the shared key/value heads
        groups = query.shape[1] // key.shape[1]
        key, value = (tensor.repeat_interleave(groups, dim=1) for tensor in (key, value))
    output = varlen_attn(
        query, key, value, boundaries, boundaries, longest, longest,
        scale=kwargs.get("scaling"), **options,
    )  # fmt: skip
    return output.unsqueeze(0), None


def varlen_options(kernel: Any) -> dict[str, Any]:
    """Causal (and grouped-query) arguments in the form this torch's `varlen_attn` takes:
    torch 2.10 has `is_causal`; 2.11 replaced it with `window_size` and added `enable_gqa`."""
    accepted = inspect.signature(kernel).parameters
    options: dict[str, Any] = {"is_causal": True} if "is_causal" in accepted else {}
    if "window_size" in accepted:
        options["window_size"] = (-1, 0)  # (-1, 0): every earlier token, none later
    if "enable_gqa" in accepted:
        options["enable_gqa"] = True
    return options


def varlen_unavailable() -> str | None:
    """Why the varlen kernel cannot run on this machine, or None when it can."""
    if varlen_attn is None:
        return f"torch {torch.__version__} has no torch.nn.attention.varlen (torch >= 2.10 has)"
    if not torch.cuda.is_available():
        return "it is a CUDA kernel and this machine has no CUDA GPU"
    return None


def choose_attention(requested: str, padding_free: bool) -> str:
    """The kernel a run uses: `requested`, or for `auto` the fastest one this machine runs.

    A forced varlen the machine cannot run stops here, before anything loads.
    """
    if requested == "auto":
        if not padding_free:
            return "sdpa"
        return "segments" if varlen_unavailable() else "varlen"
    problem = varlen_unavailable() if requested == "varlen" else None
    if problem:
        raise AttentionError(
            f"train.attention = varlen cannot run: {problem}. "
            "Fix: train.attention: auto (or segments) on this machine."
        )
    return requested


def use_attention(model: PreTrainedModel, requested: str, padding_free: bool) -> str:
    """Set the model's attention to the chosen kernel, log the choice, return its name."""
    chosen = choose_attention(requested, padding_free)
    logger.info(
        "attention: %s (train.attention = %s, %s)",
        *(chosen, requested, "padding-free batches" if padding_free else "padded batches"),
    )
    model.set_attn_implementation(KERNELS[chosen])
    return chosen


AttentionInterface.register(SEGMENT_ATTENTION, segment_attention)
AttentionInterface.register(VARLEN_ATTENTION, varlen_attention)
