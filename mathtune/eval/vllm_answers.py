"""Generation with vLLM (GPU only): the base model and each adapter as a LoRA request.

vllm is an optional dependency (requirements-gpu.txt), imported inside the functions that
use it; `answers.check_backend` checks it is there before any model loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from mathtune.eval.requests import BASE_MODEL, Answers, Request
from mathtune.models.generation import Decoding, Generation, GenerationError, stop_token_ids
from mathtune.models.loading import ModelLocation, load_tokenizer
from mathtune.models.prompts import format_prompt

VLLM_DTYPES = {"auto": "auto", "bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}
# vLLM preallocates LoRA buffers for one of these ranks; the adapter's r must fit.
VLLM_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)


def generate_with_vllm(
    location: ModelLocation,
    adapters: dict[str, Path],
    lora_rank: int | None,
    requests: list[Request],
    precision: str,
) -> Answers:
    """Every request answered by the base model and each adapter (LoRA rank <= `lora_rank`)."""
    # Imported here: vllm is optional and GPU-only; check_backend has vouched for it.
    from vllm import LLM
    from vllm.lora.request import LoRARequest

    tokenizer = load_tokenizer(location)
    lora = {"enable_lora": True, "max_lora_rank": lora_rank} if adapters else {}
    llm = LLM(
        model=location.name_or_path,
        revision=location.revision,
        trust_remote_code=location.trust_remote_code,
        dtype=VLLM_DTYPES[precision],
        generation_config="vllm",  # ignore checkpoint sampling defaults, as generation_config does
        seed=0,
        **lora,
    )
    loras = {
        name: LoRARequest(name, number, str(path))
        for number, (name, path) in enumerate(adapters.items(), start=1)
    }
    answers: Answers = {}
    for model_name in (BASE_MODEL, *adapters):
        answers[model_name] = {}
        for request in requests:
            prompts = [format_prompt(tokenizer, problem) for problem in request.problems]
            # Token ids, not text, so both backends see exactly the same prompt tokens.
            token_ids = tokenizer(prompts, add_special_tokens=False)["input_ids"]
            outputs = llm.generate(
                [{"prompt_token_ids": ids} for ids in token_ids],
                _vllm_sampling(tokenizer, request.decoding),
                lora_request=loras.get(model_name),
            )
            answers[model_name][request.name] = _read_vllm_outputs(outputs)
    return answers


def _vllm_sampling(tokenizer: PreTrainedTokenizerBase, decoding: Decoding) -> Any:
    from vllm import SamplingParams

    return SamplingParams(
        n=decoding.samples,
        temperature=decoding.temperature,
        top_p=decoding.top_p,
        seed=None if decoding.greedy else decoding.seed,
        max_tokens=decoding.max_new_tokens,
        stop_token_ids=stop_token_ids(tokenizer),
        skip_special_tokens=True,
    )


def vllm_lora_rank(adapter_dir: Path, rank: int) -> int:
    """The smallest of vLLM's preallocated LoRA ranks that holds an adapter of rank `rank`."""
    fitting = [allowed for allowed in VLLM_LORA_RANKS if allowed >= rank]
    if not fitting:
        raise GenerationError(
            f"The adapter in {adapter_dir} has rank r = {rank}, above vLLM's largest "
            f"({VLLM_LORA_RANKS[-1]}). Fix: train with a smaller train.lora.r or use "
            "evaluate.backend: transformers."
        )
    return fitting[0]


def _read_vllm_outputs(outputs: list[Any]) -> list[list[Generation]]:
    return [
        [
            Generation(item.text, len(item.token_ids), truncated=item.finish_reason == "length")
            for item in output.outputs
        ]
        for output in outputs
    ]
