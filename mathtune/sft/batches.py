"""Batches of SFT examples: padding-free (flattened) or right-padded.

Padding-free puts a whole batch into one row, restarts `position_ids` at every example and
passes the example boundaries, which `attention.py` uses to keep each example to itself.
The padded collator serves `train.padding_free: false`. With `train.batch_tokens`, whole
examples are first grouped into packs of up to that many tokens, and a device batch is one
pack, whatever the examples' lengths.

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

import random
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


@dataclass(frozen=True)
class PackCollator:
    """Flattens the examples of a batch's packs (see `pack_by_tokens`) into one row."""

    flatten: Collator

    def __call__(self, packs: Features) -> dict[str, torch.Tensor]:
        return self.flatten([example for pack in packs for example in pack[PACK_KEY]])


PACK_KEY = "examples"


def pack_by_tokens(features: Features, budget: int, seed: int) -> Features:
    """Whole examples grouped into packs of at most `budget` tokens, in a seeded order.

    The order is shuffled first, so that each pack mixes short and long examples; an
    example goes into the current pack while it fits and starts a new one otherwise.

    >>> packs = pack_by_tokens([{"input_ids": [1] * n} for n in (3, 4, 2, 5)], 7, seed=0)
    >>> [[len(example["input_ids"]) for example in pack["examples"]] for pack in packs]
    [[2, 3], [4], [5]]
    """
    order = list(range(len(features)))
    random.Random(seed).shuffle(order)
    packs: list[list[dict[str, Any]]] = []
    filled = budget  # no open pack yet
    for index in order:
        length = len(features[index]["input_ids"])
        if filled + length > budget:
            packs.append([])
            filled = 0
        packs[-1].append(features[index])
        filled += length
    return [{PACK_KEY: pack} for pack in packs]


def build_collator(pad_token_id: int, padding_free: bool, packed: bool = False) -> Collator:
    """The training collator: flattened with position_ids (of examples or of packs of them),
    or right-padded."""
    if not padding_free:
        return PaddedCollator(pad_token_id)
    # separator -100 at each example's first label: the previous example's last token
    # must not learn to predict the next example's first token.
    flatten = DataCollatorWithFlattening(
        return_position_ids=True, separator_id=IGNORE_INDEX, return_flash_attn_kwargs=True
    )
    return PackCollator(flatten) if packed else flatten


def token_count_mode(padding_free: bool) -> str:
    """Trainer's `include_num_input_tokens_seen` value that counts real (non-pad) tokens."""
    # "non_padding" sums the attention mask of padded batches; a flattened batch has no mask
    # and no pads, and "non_padding" would then drop every token equal to the pad id, which
    # for SmolLM2 is the real end-of-turn token. So flattened batches count all tokens.
    return "all" if padding_free else "non_padding"
