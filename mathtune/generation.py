"""Generation for evaluation: the base model and base + each adapter, batched.

Prompts are sorted by token length and generated longest first in left-padded batches with
the KV cache, so little compute goes to padding; results come back in the caller's order.
Generation stops on eos and on the chat template's end-of-turn token (they differ for
Qwen2.5 base). A generation that reaches `max_new_tokens` without either is cut there and
marked truncated, so a model that never stops cannot hang evaluation. Decoding is greedy,
or seeded sampling (`Decoding.temperature` > 0) for pass@1 estimates: draw k of a request
starts from seed `seed + k`, so the same params give the same samples.

Two backends, chosen by `evaluate.backend`: `transformers` (CPU or GPU, the default) and
`vllm` (GPU only, imported lazily because it is an optional dependency).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Collection
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm
from transformers import GenerationConfig, PreTrainedModel
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from mathtune.models import (
    ModelLocation,
    attach_adapter,
    check_adapter,
    load_base_model,
    load_tokenizer,
    resolve_dtype,
)
from mathtune.params import EvaluateParams, ModelParams
from mathtune.prompts import end_of_turn_token_id, format_prompt

logger = logging.getLogger(__name__)

BASE_MODEL = "base"  # the model without adapter; every other model is named after its adapter
VLLM_DTYPES = {"auto": "auto", "bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}
# vLLM preallocates LoRA buffers for one of these ranks; the adapter's r must fit.
VLLM_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)


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


def check_backend(evaluate: EvaluateParams, model: ModelParams) -> None:
    """Fail before any model loads if the chosen backend cannot run here."""
    if evaluate.backend != "vllm":
        return
    if find_spec("vllm") is None:
        raise GenerationError(
            "params.yaml: evaluate.backend = 'vllm' but the vllm package is not installed. "
            "Fix: `make setup-gpu` (requirements-gpu.txt) on a Linux machine with an NVIDIA GPU "
            "(vLLM needs one), or set evaluate.backend: transformers."
        )
    if model.source == "embedded":
        raise GenerationError(
            "params.yaml: evaluate.backend = 'vllm' cannot serve the embedded GGUF model with a "
            "LoRA adapter. Fix: set model.source to hub or local, or evaluate.backend to "
            "transformers."
        )


def stop_token_ids(tokenizer: PreTrainedTokenizerBase) -> list[int]:
    """Token ids that end a generation: eos and the end-of-turn token of the chat template."""
    return sorted({tokenizer.eos_token_id, end_of_turn_token_id(tokenizer)})


def generation_config(tokenizer: PreTrainedTokenizerBase, decoding: Decoding) -> GenerationConfig:
    """Greedy or sampled decoding; every field that could change the output is set explicitly."""
    # generate() fills unset fields from the checkpoint's generation_config, which may carry
    # sampling defaults (Qwen2.5-Instruct: temperature 0.7, top_p 0.8, repetition_penalty
    # 1.05). The neutral values below also keep transformers from warning about them.
    return GenerationConfig(
        max_new_tokens=decoding.max_new_tokens,
        do_sample=not decoding.greedy,
        num_beams=1,
        temperature=1.0 if decoding.greedy else decoding.temperature,
        top_p=1.0 if decoding.greedy else decoding.top_p,
        top_k=50 if decoding.greedy else 0,  # sampling: no top-k cut, as vLLM's default
        repetition_penalty=1.0,
        eos_token_id=stop_token_ids(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        use_cache=True,
    )


def cut_at_stop(token_ids: list[int], stop_ids: Collection[int]) -> tuple[list[int], bool]:
    """Tokens before the first stop id, and whether there was one (padding follows a stop).

    >>> cut_at_stop([5, 6, 2, 2, 2], {2, 7})
    ([5, 6], True)
    >>> cut_at_stop([5, 6, 8], {2, 7})
    ([5, 6, 8], False)
    """
    for position, token in enumerate(token_ids):
        if token in stop_ids:
            return token_ids[:position], True
    return token_ids, False


def generate_batched(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: list[str],
    decoding: Decoding,
    batch_size: int,
    description: str = "generate",
) -> list[Generation]:
    """One completion of each of `prompts`, returned in their order."""
    config = generation_config(tokenizer, decoding)
    encoded = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    # Longest first: similar lengths share a batch, and the peak memory shows at once.
    order = sorted(range(len(prompts)), key=lambda index: -len(encoded[index]))
    batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    results: list[Generation | None] = [None] * len(prompts)
    for batch in tqdm(batches, desc=description, unit="batch"):
        generations = _generate_batch(model, tokenizer, [encoded[i] for i in batch], config)
        for index, generation in zip(batch, generations, strict=True):
            results[index] = generation
    truncated = sum(generation.truncated for generation in results)
    logger.info(
        "%s: %d of %d cut at %d new tokens",
        description,
        truncated,
        len(prompts),
        decoding.max_new_tokens,
    )
    return results


def _generate_batch(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompt_ids: list[list[int]],
    config: GenerationConfig,
) -> list[Generation]:
    padded = tokenizer.pad(
        {"input_ids": prompt_ids}, padding=True, padding_side="left", return_tensors="pt"
    ).to(model.device)
    with torch.inference_mode():
        output = model.generate(**padded, generation_config=config)
    new_tokens = output[:, padded["input_ids"].shape[1] :].tolist()
    stop_ids = set(config.eos_token_id)
    generations = []
    for tokens in new_tokens:
        content, stopped = cut_at_stop(tokens, stop_ids)
        text = tokenizer.decode(content, skip_special_tokens=True)
        generations.append(Generation(text, len(content) + stopped, truncated=not stopped))
    return generations


def prepare_for_generation(model: PreTrainedModel, precision: str) -> PreTrainedModel:
    """The model in inference mode, cast to the compute dtype, on the GPU when there is one."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    # Cast rather than autocast, which re-casts every weight at every decoding step. On this
    # project's 2-core AMX CPU, SmolLM2-135M at batch 32 generated 331 tokens/s cast to bf16,
    # 172 in fp32 and 163 in fp32 under bf16 autocast.
    dtype = resolve_dtype(precision)
    logger.info("generating on %s in %s (model.precision = %s)", device, dtype, precision)
    model = model.to(device=device, dtype=dtype).eval()
    # Checkpoint generation defaults must not leak into decoding (see generation_config).
    # A PeftModel hands its generation_config to the base model when it generates.
    model.generation_config = GenerationConfig()
    return model


def generate_answers(
    location: ModelLocation,
    adapters: dict[str, Path],
    requests: list[Request],
    evaluate: EvaluateParams,
    precision: str,
) -> Answers:
    """Every request answered by the base model and by base + each adapter (one model load)."""
    # Every adapter is checked before any model loads, so a stale one fails in seconds.
    ranks = {name: check_adapter(path, location)["r"] for name, path in adapters.items()}
    if evaluate.backend == "vllm":
        lora_rank = max((vllm_lora_rank(adapters[n], r) for n, r in ranks.items()), default=None)
        return _generate_with_vllm(location, adapters, lora_rank, requests, precision)
    tokenizer = load_tokenizer(location)
    model = load_base_model(location)
    for name, path in adapters.items():
        model = attach_adapter(model, path, name, location)
    model = prepare_for_generation(model, precision)
    prompts = {r.name: [format_prompt(tokenizer, p) for p in r.problems] for r in requests}
    # The base pass runs with every adapter switched off, then each adapter alone.
    off = model.disable_adapter() if adapters else contextlib.nullcontext()
    with off:
        answers = {BASE_MODEL: _answer(model, tokenizer, requests, prompts, evaluate, BASE_MODEL)}
    for name in adapters:
        model.set_adapter(name)
        answers[name] = _answer(model, tokenizer, requests, prompts, evaluate, name)
    return answers


def _answer(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    requests: list[Request],
    prompts: dict[str, list[str]],
    evaluate: EvaluateParams,
    model_name: str,
) -> dict[str, list[list[Generation]]]:
    # Requests with the same decoding share batches (seen and held-out rows fill one batch
    # together instead of leaving two part-empty), then are split apart again.
    shared: dict[Decoding, list[Request]] = {}
    for request in requests:
        shared.setdefault(request.decoding, []).append(request)
    answers: dict[str, list[list[Generation]]] = {request.name: [] for request in requests}
    for decoding, members in shared.items():
        joined = [prompt for request in members for prompt in prompts[request.name]]
        names = " + ".join(request.name for request in members)
        draws = []
        for draw in range(decoding.samples):
            torch.manual_seed(decoding.seed + draw)  # greedy decoding draws nothing
            description = f"{model_name} {names}"
            draws.append(
                generate_batched(
                    model, tokenizer, joined, decoding, evaluate.batch_size, description
                )
            )
        completions = [list(per_prompt) for per_prompt in zip(*draws, strict=True)]
        for request in members:
            answers[request.name] = completions[: len(request.problems)]
            completions = completions[len(request.problems) :]
    return answers


def _generate_with_vllm(
    location: ModelLocation,
    adapters: dict[str, Path],
    lora_rank: int | None,
    requests: list[Request],
    precision: str,
) -> Answers:
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
