"""Shared fixtures: a tiny real model, so most tests skip the 12 s GGUF load.

`tiny_model_dir` is a two-layer Llama with random weights and the real SmolLM2 tokenizer
(taken from the embedded GGUF), saved like any local model directory (config.json +
model.safetensors + tokenizer files). It exercises the same code paths as the real models.
"""

from __future__ import annotations

import os

# Tests never touch the network: hub look-ups fail at once instead of retrying for a minute.
# huggingface_hub reads these when first imported, so they are set before anything imports it.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["WANDB_MODE"] = "offline"

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM  # noqa: E402

from mathtune.models import (  # noqa: E402
    ModelLocation,
    add_lora_adapter,
    load_base_model,
    load_tokenizer,
    locate_model,
)
from mathtune.params import LoraParams, ModelParams  # noqa: E402


def model_params(**changes) -> ModelParams:
    """ModelParams as in params.yaml, with `changes` applied."""
    defaults = dict(
        source="embedded",
        hub_id="Qwen/Qwen2.5-0.5B",
        revision="060db6499f32faf8b98477b0a26969ef7d8b9987",
        local_dir=None,
        trust_remote_code=False,
        precision="fp32",
    )
    return ModelParams(**(defaults | changes))


def save_random_adapter(location: ModelLocation, path: Path, seed: int) -> None:
    """A LoRA adapter for `location` that changes the output, different for each seed.

    LoRA starts as a no-op (B = 0); random B weights make an adapter's pass show.
    """
    model = add_lora_adapter(load_base_model(location), LoraParams(4, 8, 0.0, ["q_proj", "v_proj"]))
    torch.manual_seed(seed)
    for name, weight in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(weight, std=1.0)
    model.peft_config["default"].base_model_name_or_path = location.description
    model.save_pretrained(path)


@pytest.fixture(scope="session")
def embedded_tokenizer():
    return load_tokenizer(locate_model(model_params()))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, embedded_tokenizer) -> Path:
    directory = tmp_path_factory.mktemp("tiny-model")
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(embedded_tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        eos_token_id=embedded_tokenizer.eos_token_id,
        bos_token_id=embedded_tokenizer.bos_token_id,
        pad_token_id=embedded_tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    LlamaForCausalLM(config).save_pretrained(directory)
    embedded_tokenizer.save_pretrained(directory)
    return directory
