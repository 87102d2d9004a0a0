"""Batches of SFT examples: padding-free (flattened) or right-padded.

Padding-free puts a whole batch into one row, restarts `position_ids` at every example and
passes the example boundaries, which `attention.py` uses to keep each example to itself.
The padded collator serves `train.padding_free: false`.

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
from typing import Any

import torch
from transformers import DataCollatorWithFlattening

from mathtune.sft.examples import IGNORE_INDEX

Features = list[dict[str, Any]]
Collator = Callable[[Features], dict[str, torch.Tensor]]


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


def build_collator(pad_token_id: int, padding_free: bool) -> Collator:
    """The training collator: flattened with position_ids, or right-padded."""
    if padding_free:
        # separator -100 at each example's first label: the previous example's last token
        # must not learn to predict the next example's first token.
        return DataCollatorWithFlattening(
            return_position_ids=True, separator_id=IGNORE_INDEX, return_flash_attn_kwargs=True
        )
    return PaddedCollator(pad_token_id)


def token_count_mode(padding_free: bool) -> str:
    """Trainer's `include_num_input_tokens_seen` value that counts real (non-pad) tokens."""
    # "non_padding" sums the attention mask of padded batches; a flattened batch has no mask
    # and no pads, and "non_padding" would then drop every token equal to the pad id, which
    # for SmolLM2 is the real end-of-turn token. So flattened batches count all tokens.
    return "all" if padding_free else "non_padding"
