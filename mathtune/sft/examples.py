"""SFT examples: a prepared split tokenized as prompt + target, prompt labels masked.

A training example is the chat-formatted prompt followed by the target and the model's
end-of-turn token. Prompt tokens get label -100 (no loss); the target and the end-of-turn
token are learned, so the tuned model learns to stop. `load_split` reads a prepared Parquet
split and drops examples whose prompt leaves no target token within `train.max_length`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from mathtune.core.schema import SplitError, read_prepared_columns
from mathtune.grading.extract import extract_answer
from mathtune.models.prompts import end_of_turn_suffix, format_prompt

IGNORE_INDEX = -100  # label value that torch's cross-entropy skips
TRAINING_COLUMNS = ("problem", "target", "answer")


@dataclass(frozen=True)
class TokenizedExample:
    input_ids: list[int]
    labels: list[int]
    truncated: bool


@dataclass(frozen=True)
class TokenizedSplit:
    """Examples ready for a collator, with counts of what tokenisation cut or dropped."""

    features: list[dict[str, list[int]]]
    truncated: int
    dropped: int


def format_target(target: str, answer: str) -> str:
    """Target text that ends with a clear boxed answer: kept as it is when the grader
    already reads a boxed final answer in it, so training teaches what grading pays for.

    >>> format_target("2 + 2 = 4.", "4")
    '2 + 2 = 4.\\n\\nThe final answer is $\\\\boxed{4}$.'
    >>> format_target("So $\\\\boxed{4}$.", "4")
    'So $\\\\boxed{4}$.'
    """
    target = target.strip()
    found = extract_answer(target)
    if found is not None and found.boxed:
        return target
    return f"{target}\n\nThe final answer is $\\boxed{{{answer}}}$."


def tokenize_examples(
    tokenizer: PreTrainedTokenizerBase,
    problems: list[str],
    targets: list[str],
    answers: list[str],
    max_length: int,
) -> list[TokenizedExample]:
    """Tokenize prompt + target pairs in two batched calls, masking prompt labels.

    Examples longer than `max_length` are cut from the right and marked `truncated`.
    """
    suffix = end_of_turn_suffix(tokenizer).rstrip("\n")
    prompts = [format_prompt(tokenizer, problem) for problem in problems]
    completions = [
        format_target(target, answer) + suffix
        for target, answer in zip(targets, answers, strict=True)
    ]
    prompt_ids = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(completions, add_special_tokens=False)["input_ids"]
    return [
        _join_and_truncate(prompt, completion, max_length)
        for prompt, completion in zip(prompt_ids, completion_ids, strict=True)
    ]


def _join_and_truncate(
    prompt: list[int], completion: list[int], max_length: int
) -> TokenizedExample:
    input_ids = (prompt + completion)[:max_length]
    labels = ([IGNORE_INDEX] * len(prompt) + completion)[:max_length]
    return TokenizedExample(input_ids, labels, truncated=len(prompt) + len(completion) > max_length)


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
