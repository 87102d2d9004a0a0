"""The prompt shared by training and evaluation, and tokenisation with masked labels.

A training example is the chat-formatted prompt followed by the target and the model's
end-of-turn token. Prompt tokens get label -100 (no loss); the target and the end-of-turn
token are learned, so the tuned model learns to stop. Qwen2.5 base models end a turn with
`<|im_end|>`, not with their eos token, which is why the end-of-turn token is read from the
chat template rather than assumed to be eos.
"""

from __future__ import annotations

from dataclasses import dataclass

from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from mathtune.grading.extract import extract_answer

INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."
IGNORE_INDEX = -100  # label value that torch's cross-entropy skips

# ChatML, the format of Qwen2.5 and SmolLM2, for tokenizers that ship no chat template.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
_SENTINEL = "\u2063TARGET\u2063"  # text that never occurs in a template, to split it around


@dataclass(frozen=True)
class TokenizedExample:
    input_ids: list[int]
    labels: list[int]
    truncated: bool


def build_messages(problem: str) -> list[dict[str, str]]:
    """Chat messages that ask for step-by-step reasoning and a final boxed answer."""
    return [{"role": "user", "content": f"{problem.strip()}\n\n{INSTRUCTION}"}]


def format_prompt(tokenizer: PreTrainedTokenizerBase, problem: str) -> str:
    """The prompt text up to where the assistant's answer begins."""
    return _apply_template(tokenizer, build_messages(problem), add_generation_prompt=True)


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


def end_of_turn_suffix(tokenizer: PreTrainedTokenizerBase) -> str:
    """What the chat template writes after an assistant message, e.g. `<|im_end|>\\n`."""
    messages = [{"role": "user", "content": "x"}, {"role": "assistant", "content": _SENTINEL}]
    rendered = _apply_template(tokenizer, messages, add_generation_prompt=False)
    return rendered.split(_SENTINEL, 1)[1]


def end_of_turn_token_id(tokenizer: PreTrainedTokenizerBase) -> int:
    """The token that ends an assistant turn; generation stops on it."""
    suffix_ids = tokenizer(end_of_turn_suffix(tokenizer), add_special_tokens=False)["input_ids"]
    return suffix_ids[0] if suffix_ids else tokenizer.eos_token_id


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


def _apply_template(
    tokenizer: PreTrainedTokenizerBase, messages: list[dict[str, str]], add_generation_prompt: bool
) -> str:
    return tokenizer.apply_chat_template(
        messages,
        chat_template=tokenizer.chat_template or CHATML_TEMPLATE,
        tokenize=False,
        add_generation_prompt=add_generation_prompt,
    )
