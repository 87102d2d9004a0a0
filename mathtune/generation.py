"""Generation for evaluation: the base model and base + each adapter, batched.

Prompts are sorted by token length and generated longest first in left-padded batches with
the KV cache, so little compute goes to padding; results come back in the caller's order.
Generation stops on eos and on the chat template's end-of-turn token (they differ for
Qwen2.5 base). A generation that reaches `max_new_tokens` without either is cut there and
marked truncated, so a model that never stops cannot hang evaluation. Decoding is greedy,
or seeded sampling (`Decoding.temperature` > 0) for pass@1 estimates: each batch of draw k
is seeded from (seed, k, batch index), so the same params give the same samples.

Under several processes every rank forms the batches one process would and runs its share
of them (mathtune/distributed.py `map_batches`); every rank gets every completion back. A
batch computes the same whichever rank runs it, so predictions equal a one-process run's,
in bf16 too (where another batch shape could flip near-tie greedy tokens).

Two backends, chosen by `evaluate.backend`: `transformers` (CPU or GPU, the default, here)
and `vllm` (GPU only, in mathtune/vllm_generation.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Collection
from importlib.util import find_spec
from pathlib import Path

import torch
from tqdm.auto import tqdm
from transformers import GenerationConfig, PreTrainedModel
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from mathtune import distributed
from mathtune.decoding import (
    BASE_MODEL,
    Answers,
    Decoding,
    Generation,
    GenerationError,
    Request,
    stop_token_ids,
)
from mathtune.models import (
    ModelLocation,
    attach_adapter,
    check_adapter,
    load_base_model,
    load_tokenizer,
    resolve_dtype,
)
from mathtune.params import EvaluateParams, ModelParams
from mathtune.prompts import format_prompt
from mathtune.vllm_generation import generate_with_vllm, vllm_lora_rank

logger = logging.getLogger(__name__)


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
    draw: int = 0,
) -> list[Generation]:
    """One completion of each of `prompts` (sample `draw` when sampling), in their order.

    Under several processes every rank must call it with the same prompts: each runs its
    share of the batches and all get every completion.
    """
    config = generation_config(tokenizer, decoding)
    encoded = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    batches = length_batches([len(ids) for ids in encoded], batch_size)
    share = distributed.my_batches(len(batches))
    with tqdm(total=len(share), desc=description, unit="batch") as progress:

        def run(index: int, batch: list[int]) -> list[Generation]:
            if not decoding.greedy:  # seeded per batch: the same tokens on whichever rank
                torch.manual_seed(batch_seed(decoding.seed, draw, index))
            generations = _generate_batch(model, tokenizer, [encoded[i] for i in batch], config)
            progress.update()
            return generations

        outputs = distributed.map_batches(run, batches)
    results: list[Generation | None] = [None] * len(prompts)
    for batch, generations in zip(batches, outputs, strict=True):
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


def length_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Prompt indices in batches of `batch_size`, longest prompts first.

    Similar lengths share a batch (little padding), and the peak memory shows at once.

    >>> length_batches([2, 5, 3, 5, 1], 2)
    [[1, 3], [2, 0], [4]]
    """
    order = sorted(range(len(lengths)), key=lambda index: -lengths[index])
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def batch_seed(seed: int, draw: int, batch: int) -> int:
    """The seed of one sampled batch, from (seed, draw, batch index) alone.

    Not from what ran before, so a batch draws the same tokens whichever rank runs it.
    """
    digest = hashlib.sha256(f"{seed} {draw} {batch}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


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
    """The model in inference mode, cast to the compute dtype, on this process's GPU when
    there is one (each rank of a launch on its own)."""
    device = distributed.device()
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
        return generate_with_vllm(location, adapters, lora_rank, requests, precision)
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
            description = f"{model_name} {names}"
            draws.append(
                generate_batched(
                    model, tokenizer, joined, decoding, evaluate.batch_size, description, draw
                )
            )
        completions = [list(per_prompt) for per_prompt in zip(*draws, strict=True)]
        for request in members:
            answers[request.name] = completions[: len(request.problems)]
            completions = completions[len(request.problems) :]
    return answers
