"""Batched generation with transformers, shared by evaluation and `mathtune solve`.

Prompts are sorted by token length and generated longest first in left-padded batches with
the KV cache, so little compute goes to padding; results come back in the caller's order.
Generation stops on eos and on the chat template's end-of-turn token (they differ for
Qwen2.5 base). A generation that reaches `max_new_tokens` without either is cut there and
marked truncated, so a model that never stops cannot hang evaluation. Decoding is greedy,
or seeded sampling (`Decoding.temperature` > 0) for pass@1 estimates: each batch of draw k
is seeded from (seed, k, batch index), so the same params give the same samples.

Under several processes every rank forms the batches one process would and runs its share
of them (`distributed.map_batches`); every rank gets every completion back. A batch
computes the same whichever rank runs it, so results equal a one-process run's, in bf16
too (where another batch shape could flip near-tie greedy tokens).

    generations = generate_batched(model, tokenizer, prompts, Decoding(max_new_tokens=128), 32)
    generations[0] == Generation(text="... \\boxed{12}", generated_tokens=41, truncated=False)
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection
from dataclasses import dataclass
from importlib.util import find_spec

import torch
from tqdm.auto import tqdm
from transformers import GenerationConfig, PreTrainedModel
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from mathtune.core import distributed
from mathtune.core.errors import MathtuneError
from mathtune.models.loading import resolve_dtype
from mathtune.models.prompts import end_of_turn_token_id

logger = logging.getLogger(__name__)


class GenerationError(MathtuneError):
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


def stop_token_ids(tokenizer: PreTrainedTokenizerBase) -> list[int]:
    """Token ids that end a generation: eos and the end-of-turn token of the chat template."""
    return sorted({tokenizer.eos_token_id, end_of_turn_token_id(tokenizer)})


def check_vllm(key: str, model_source: str) -> None:
    """Fail before any model loads when the param `key` = vllm cannot run here: vLLM needs a
    CUDA GPU, the vllm package and a model it can load (not the embedded GGUF one)."""
    fix = f"or set {key}: transformers"
    if not torch.cuda.is_available():  # first: without a GPU, installing vllm would not help
        raise GenerationError(
            f"params.yaml: {key} = 'vllm' needs a CUDA GPU and none is visible. Fix: run on a "
            f"GPU machine, {fix}."
        )
    if find_spec("vllm") is None:
        raise GenerationError(
            f"params.yaml: {key} = 'vllm' but the vllm package is not installed. Fix: "
            f"`make setup-gpu` (requirements-gpu.txt) on a machine with an NVIDIA GPU, {fix}."
        )
    if model_source == "embedded":
        raise GenerationError(
            f"params.yaml: {key} = 'vllm' cannot load the embedded GGUF model. Fix: set "
            f"model.source to hub or local, {fix}."
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
