"""Answering as the evaluate stage does: the training prompt, then greedy (or seeded sampled)
decoding that stops at the end of the turn.

A file of problems goes through `generate_batched`, the evaluate stage's batched generation
(length-sorted, left-padded batches, a progress bar). One problem is streamed instead: its
tokens are written as they are generated, and the answer returned is the one
`generate_batched` gives for it alone.
"""

from __future__ import annotations

from typing import TextIO

import torch
from transformers import PreTrainedModel, TextStreamer
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from mathtune.models.generation import (
    Decoding,
    Generation,
    batch_seed,
    cut_at_stop,
    generate_batched,
    generation_config,
)
from mathtune.models.prompts import format_prompt


class TextWriter(TextStreamer):
    """transformers' streamer, writing the answer's words to `out` instead of printing them."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, out: TextIO) -> None:
        super().__init__(tokenizer, skip_prompt=True, skip_special_tokens=True)
        self.out = out

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        self.out.write(text + ("\n" if stream_end else ""))
        self.out.flush()


def answer_problems(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    problems: list[str],
    decoding: Decoding,
    batch_size: int,
) -> list[Generation]:
    """One completion per problem, in order, from the evaluate stage's batched generation."""
    prompts = [format_prompt(tokenizer, problem) for problem in problems]
    return generate_batched(model, tokenizer, prompts, decoding, batch_size, "solve")


def stream_answer(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    problem: str,
    decoding: Decoding,
    out: TextIO,
) -> Generation:
    """The completion of one problem, its text written to `out` as it is generated."""
    config = generation_config(tokenizer, decoding)
    prompt = format_prompt(tokenizer, problem)
    inputs = tokenizer(prompt, add_special_tokens=False, return_tensors="pt").to(model.device)
    if not decoding.greedy:  # the seed generate_batched gives a one-prompt batch: same sample
        torch.manual_seed(batch_seed(decoding.seed, 0, 0))
    with torch.inference_mode():
        output = model.generate(
            **inputs, generation_config=config, streamer=TextWriter(tokenizer, out)
        )
    new_tokens = output[0, inputs["input_ids"].shape[1] :].tolist()
    content, stopped = cut_at_stop(new_tokens, set(config.eos_token_id))
    text = tokenizer.decode(content, skip_special_tokens=True)
    return Generation(text, len(content) + stopped, truncated=not stopped)
