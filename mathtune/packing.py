"""Training examples and their batches: padding-free (flattened) or right-padded.

`load_split` turns a prepared Parquet split into tokenized examples (prompt labels -100),
dropping those whose prompt leaves no target token within `train.max_length`.

Padding-free puts a whole batch into one row, restarts `position_ids` at every example and
passes the example boundaries (`cu_seq_lens_q`). `segment_attention` then runs causal SDPA
on each example alone, so attention costs the sum of the squared example lengths. Plain
`sdpa` would instead build a block-diagonal mask from the position resets and compute the
square of the whole row's length: on a CPU that cancels the gain for batches of long traces
(benchmarks/bench_training.py). The padded collator serves `train.padding_free: false`.

Labels are never derived from pad ids: SmolLM2's pad token is its end-of-turn token
`<|im_end|>`, which must stay inside the loss. Pads get label -100 by position instead.

    >>> collate = build_collator(pad_token_id=0, padding_free=True)
    >>> batch = collate([{"input_ids": [5, 6, 7], "labels": [-100, 6, 7]},
    ...                  {"input_ids": [8, 9], "labels": [-100, 9]}])
    >>> batch["input_ids"].tolist(), batch["position_ids"].tolist()
    ([[5, 6, 7, 8, 9]], [[0, 1, 2, 0, 1]])
    >>> batch["labels"].tolist()
    [[-100, 6, 7, -100, 9]]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import AttentionInterface, DataCollatorWithFlattening, PreTrainedModel
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from mathtune.prompts import IGNORE_INDEX, tokenize_examples
from mathtune.schema import SplitError, read_prepared_columns

TRAINING_COLUMNS = ("problem", "target", "answer")
SEGMENT_ATTENTION = "sdpa_segments"  # the name models know segment_attention by
Features = list[dict[str, Any]]
Collator = Callable[[Features], dict[str, torch.Tensor]]


@dataclass(frozen=True)
class TokenizedSplit:
    """Examples ready for a collator, with counts of what tokenisation cut or dropped."""

    features: list[dict[str, list[int]]]
    truncated: int
    dropped: int


@dataclass(frozen=True)
class PaddedCollator:
    """Right-pads a batch; pads get `pad_token_id` as input, label -100 and mask 0.

    >>> batch = PaddedCollator(pad_token_id=0)([{"input_ids": [5, 6], "labels": [-100, 6]},
    ...                                         {"input_ids": [7], "labels": [7]}])
    >>> batch["input_ids"].tolist(), batch["labels"].tolist()
    ([[5, 6], [7, 0]], [[-100, 6], [7, -100]])
    """

    pad_token_id: int

    def __call__(self, features: Features) -> dict[str, torch.Tensor]:
        # Right padding: transformers numbers positions 0..n-1 from the left whatever the mask
        # says, so left padding would shift every position and change the loss.
        width = max(len(feature["input_ids"]) for feature in features)
        input_ids, labels, attention_mask = [], [], []
        for feature in features:
            pad = width - len(feature["input_ids"])
            input_ids.append(list(feature["input_ids"]) + [self.pad_token_id] * pad)
            labels.append(list(feature["labels"]) + [IGNORE_INDEX] * pad)
            attention_mask.append([1] * len(feature["input_ids"]) + [0] * pad)
        return {
            "input_ids": torch.tensor(input_ids, dtype=torch.long),
            "labels": torch.tensor(labels, dtype=torch.long),
            "attention_mask": torch.tensor(attention_mask, dtype=torch.long),
        }


def load_split(path: Path, tokenizer: PreTrainedTokenizerBase, max_length: int) -> TokenizedSplit:
    """Tokenize a prepared Parquet split, dropping rows with no target token left."""
    columns = read_prepared_columns(path, TRAINING_COLUMNS)
    examples = tokenize_examples(
        tokenizer, columns["problem"], columns["target"], columns["answer"], max_length
    )
    # A prompt longer than max_length leaves only masked labels: no loss, only wasted compute.
    kept = [example for example in examples if set(example.labels) != {IGNORE_INDEX}]
    if not kept:
        raise SplitError(
            f"No example of {path} fits train.max_length = {max_length} tokens with any of its "
            "target. Fix: raise train.max_length or check the prepared data."
        )
    features = [{"input_ids": ex.input_ids, "labels": ex.labels} for ex in kept]
    truncated = sum(example.truncated for example in kept)
    return TokenizedSplit(features, truncated, dropped=len(examples) - len(kept))


def build_collator(pad_token_id: int, padding_free: bool) -> Collator:
    """The training collator: flattened with position_ids, or right-padded."""
    if padding_free:
        # separator -100 at each example's first label: the previous example's last token
        # must not learn to predict the next example's first token.
        return DataCollatorWithFlattening(
            return_position_ids=True, separator_id=IGNORE_INDEX, return_flash_attn_kwargs=True
        )
    return PaddedCollator(pad_token_id)


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


def token_count_mode(padding_free: bool) -> str:
    """Trainer's `include_num_input_tokens_seen` value that counts real (non-pad) tokens."""
    # "non_padding" sums the attention mask of padded batches; a flattened batch has no mask
    # and no pads, and "non_padding" would then drop every token equal to the pad id, which
    # for SmolLM2 is the real end-of-turn token. So flattened batches count all tokens.
    return "all" if padding_free else "non_padding"


AttentionInterface.register(SEGMENT_ATTENTION, segment_attention)
