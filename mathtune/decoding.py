"""What evaluation asks models to generate, and what comes back, whatever the backend.

A `Request` names problems and one `Decoding` (greedy, or seeded samples); every model
answers every request, and the answers come back as

    answers["sft"]["heldout"][3] == [Generation(text="... \\boxed{12}", generated_tokens=41,
                                                truncated=False)]

(one completion per problem when greedy, `samples` when sampled).
"""

from __future__ import annotations

from dataclasses import dataclass

from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from mathtune.prompts import end_of_turn_token_id

BASE_MODEL = "base"  # the model without adapter; every other model is named after its adapter


class GenerationError(RuntimeError):
    """Generation cannot run with these params; the message says the fix."""


@dataclass(frozen=True)
class Generation:
    """One completion: text without the stop token, tokens generated (stop token included)."""

    text: str
    generated_tokens: int
    truncated: bool  # reached max_new_tokens without a stop token


@dataclass(frozen=True)
class Decoding:
    """How to answer: greedy when `temperature` is 0, else `samples` seeded draws."""

    max_new_tokens: int
    samples: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0


@dataclass(frozen=True)
class Request:
    """Problems every model answers with one decoding; `name` keys the answers."""

    name: str
    problems: list[str]
    decoding: Decoding


# answers[model][request name][problem index] -> that problem's completions (one when greedy)
Answers = dict[str, dict[str, list[list[Generation]]]]


def stop_token_ids(tokenizer: PreTrainedTokenizerBase) -> list[int]:
    """Token ids that end a generation: eos and the end-of-turn token of the chat template."""
    return sorted({tokenizer.eos_token_id, end_of_turn_token_id(tokenizer)})
