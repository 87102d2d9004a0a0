"""Saving a trained LoRA adapter so that the same weights always give the same bytes.

    models/adapter/  adapter_model.safetensors, adapter_config.json, tokenizer files

The folder is written all or nothing (`atomic_path`), names its base model by
`ModelLocation.description` (what `check_adapter` compares) and leaves out what would make
the same adapter hash differently in every checkout.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch
from peft import PeftModel
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from mathtune.core.io import atomic_path
from mathtune.models.loading import ModelLocation

logger = logging.getLogger(__name__)


def save_adapter(
    model: PeftModel,
    tokenizer: PreTrainedTokenizerBase,
    location: ModelLocation,
    adapter_dir: Path,
    state_dict: dict[str, torch.Tensor] | None = None,
) -> None:
    """Write adapter weights (safetensors), config and tokenizer; all or nothing.

    `state_dict` is the whole model's, gathered from the ranks when they shard it.
    """
    with atomic_path(adapter_dir) as temporary:
        model.save_pretrained(temporary, safe_serialization=True, state_dict=state_dict)
        tokenizer.save_pretrained(temporary)
        # peft's model card names the base model by its absolute path (for the embedded
        # model, inside .venv): the same adapter would hash differently in every checkout.
        (temporary / "README.md").unlink(missing_ok=True)
        # load_adapter compares this with the base model the evaluate stage selects.
        config_file = temporary / "adapter_config.json"
        config = json.loads(config_file.read_text())
        config["base_model_name_or_path"] = location.description
        # peft keeps target_modules as a set: its order follows the per-process string hash
        # seed, which would give the same adapter a new DVC hash on every run.
        config["target_modules"] = sorted(config["target_modules"])
        config_file.write_text(json.dumps(config, indent=2, sort_keys=True))
    logger.info("Saved the adapter for %s to %s", location.description, adapter_dir)
