"""A trained LoRA adapter merged into its base: one plain model that any runtime loads.

    models/merged/  model.safetensors, config.json, generation_config.json, tokenizer.json,
                    tokenizer_config.json, chat_template.jinja, mathtune_export.json

peft's `merge_and_unload` adds each adapter's scaled B @ A to the weight it adapts, so what
is saved is an ordinary transformers model: transformers, vLLM and llama.cpp's converter load
it without peft or this package. The merge runs on the fp32 weights (the embedded GGUF base
is dequantized on load, so they are plain tensors) and the result is cast to `export.dtype`
only when saved: in fp32 the merged model answers token for token as base + adapter.

What a runtime needs to answer as the project does travels with the weights: the chat
template training used (ChatML where the tokenizer ships none) and a generation config that
stops on the template's end-of-turn token (`<|im_end|>`, which for Qwen2.5 base is not its
eos) and decodes greedily by default. `mathtune_export.json` records what was merged:

    {"adapter": "grpo", "adapter_sha256": "3f1c...", "base_model":
     "embedded:SmolLM2-135M-Instruct.Q4_1.gguf", "dtype": "fp32", "revision": null}
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from transformers import GenerationConfig, PreTrainedModel
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from mathtune.core.io import atomic_path
from mathtune.models.generation import stop_token_ids
from mathtune.models.loading import (
    ModelLocation,
    load_adapter,
    load_base_model,
    resolve_dtype,
)
from mathtune.models.prompts import CHATML_TEMPLATE

logger = logging.getLogger(__name__)

RECORD_FILE = "mathtune_export.json"


@dataclass(frozen=True)
class ExportRecord:
    """What a merged folder holds: which base, which adapter (name and weights' hash), dtype."""

    base_model: str  # ModelLocation.description, e.g. hub:Qwen/Qwen2.5-0.5B@060db64...
    revision: str | None  # the hub commit of the base; None for embedded and local bases
    adapter: str  # sft | grpo
    adapter_sha256: str  # of adapter_model.safetensors: which training run was merged
    dtype: str  # fp32 | bf16 | fp16


def merge_adapter(location: ModelLocation, adapter_dir: Path) -> PreTrainedModel:
    """The base at `location` with the adapter in `adapter_dir` folded into its weights."""
    model = load_adapter(load_base_model(location), adapter_dir, location)
    return model.merge_and_unload()


def describe_export(
    location: ModelLocation, adapter: str, adapter_dir: Path, dtype: str
) -> ExportRecord:
    """The record of one export (`adapter_dir` holds a checked adapter)."""
    weights = (adapter_dir / "adapter_model.safetensors").read_bytes()
    return ExportRecord(
        base_model=location.description,
        revision=location.revision,
        adapter=adapter,
        adapter_sha256=hashlib.sha256(weights).hexdigest(),
        dtype=dtype,
    )


def merged_generation_config(tokenizer: PreTrainedTokenizerBase) -> GenerationConfig:
    """Greedy by default; stops on eos and on the chat template's end-of-turn token.

    vLLM adds these eos ids to every request's stop tokens and transformers' generate()
    stops on them, so neither runs on past the answer into a made-up next turn.
    """
    return GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=stop_token_ids(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        do_sample=False,
    )


def save_merged(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    out_dir: Path,
    record: ExportRecord,
) -> None:
    """Write the merged model in `record.dtype`, its tokenizer and configs; all or nothing."""
    if tokenizer.chat_template is None:
        # Runtimes format chat requests with the saved template: without one they would
        # not build the prompt training used (models/prompts.py falls back to ChatML too).
        tokenizer.chat_template = CHATML_TEMPLATE
    with atomic_path(out_dir) as temporary:
        model.to(resolve_dtype(record.dtype)).save_pretrained(temporary)
        tokenizer.save_pretrained(temporary)
        merged_generation_config(tokenizer).save_pretrained(temporary)
        record_text = json.dumps(asdict(record), indent=2, sort_keys=True) + "\n"
        (temporary / RECORD_FILE).write_text(record_text)
    logger.info(
        "Saved %s + %s merged, in %s, to %s",
        record.base_model,
        record.adapter,
        record.dtype,
        out_dir,
    )
