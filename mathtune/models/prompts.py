"""The prompt that training, RL, evaluation and `mathtune solve` all give the model.

A problem becomes one user message asking for step-by-step reasoning and a boxed answer,
rendered with the model's chat template (ChatML when the tokenizer ships none) up to where
the assistant's answer begins. Qwen2.5 base models end a turn with `<|im_end|>`, not with
their eos token, which is why the end-of-turn token is read from the chat template rather
than assumed to be eos: generation stops on it and SFT targets end with it.
"""

from __future__ import annotations

from transformers.tokenization_utils_base import PreTrainedTokenizerBase

INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."

# ChatML, the format of Qwen2.5 and SmolLM2, for tokenizers that ship no chat template.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
_SENTINEL = "\u2063TARGET\u2063"  # text that never occurs in a template, to split it around


def build_messages(problem: str) -> list[dict[str, str]]:
    """Chat messages that ask for step-by-step reasoning and a final boxed answer."""
    return [{"role": "user", "content": f"{problem.strip()}\n\n{INSTRUCTION}"}]


def format_prompt(tokenizer: PreTrainedTokenizerBase, problem: str) -> str:
    """The prompt text up to where the assistant's answer begins."""
    return _apply_template(tokenizer, build_messages(problem), add_generation_prompt=True)


def end_of_turn_suffix(tokenizer: PreTrainedTokenizerBase) -> str:
    """What the chat template writes after an assistant message, e.g. `<|im_end|>\\n`."""
    messages = [{"role": "user", "content": "x"}, {"role": "assistant", "content": _SENTINEL}]
    rendered = _apply_template(tokenizer, messages, add_generation_prompt=False)
    return rendered.split(_SENTINEL, 1)[1]


def end_of_turn_token_id(tokenizer: PreTrainedTokenizerBase) -> int:
    """The token that ends an assistant turn; generation stops on it."""
    suffix_ids = tokenizer(end_of_turn_suffix(tokenizer), add_special_tokens=False)["input_ids"]
    return suffix_ids[0] if suffix_ids else tokenizer.eos_token_id


def _apply_template(
    tokenizer: PreTrainedTokenizerBase, messages: list[dict[str, str]], add_generation_prompt: bool
) -> str:
    return tokenizer.apply_chat_template(
        messages,
        chat_template=tokenizer.chat_template or CHATML_TEMPLATE,
        tokenize=False,
        add_generation_prompt=add_generation_prompt,
    )
