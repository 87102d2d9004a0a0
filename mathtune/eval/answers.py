"""The base model and base + each adapter answering every request of evaluation.

One model load: adapters are attached side by side and switched in turn, with every adapter
off for the base pass. Two backends, chosen by `evaluate.backend`: `transformers` (CPU or
GPU, the default, here) and `vllm` (GPU only, in `vllm_answers.py`). What comes back is
described in `requests.py`.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from transformers import PreTrainedModel
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from mathtune.core.params import EvaluateParams, ModelParams
from mathtune.eval.requests import BASE_MODEL, Answers, Request
from mathtune.eval.vllm_answers import generate_with_vllm, vllm_lora_rank
from mathtune.models.generation import (
    Decoding,
    Generation,
    check_vllm,
    generate_batched,
    prepare_for_generation,
)
from mathtune.models.loading import (
    ModelLocation,
    attach_adapter,
    check_adapter,
    load_base_model,
    load_tokenizer,
)
from mathtune.models.prompts import format_prompt

logger = logging.getLogger(__name__)


def check_backend(evaluate: EvaluateParams, model: ModelParams) -> None:
    """Fail before any model loads if the chosen backend cannot run here."""
    if evaluate.backend == "vllm":
        check_vllm("evaluate.backend", model.source)


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
