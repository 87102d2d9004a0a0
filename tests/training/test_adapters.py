"""Saved adapters name their base model and load onto it."""

from __future__ import annotations

import json

from conftest import model_params
from mathtune.models.loading import load_adapter, load_base_model, locate_model


def test_adapter_names_its_base_model_and_loads_onto_it(grpo_inputs, tiny_model_dir):
    adapter_dir = grpo_inputs.sft_adapter_dir  # written by save_adapter
    location = locate_model(model_params(source="local", local_dir=str(tiny_model_dir)))
    config = json.loads((adapter_dir / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == f"local:{tiny_model_dir}"
    # Sorted, not in set order (which changes between processes): stable bytes for DVC.
    assert config["target_modules"] == sorted(config["target_modules"])
    assert len(config["target_modules"]) > 1
    assert (adapter_dir / "tokenizer_config.json").is_file()
    # peft's model card names the base by an absolute path: left out, as it differs per clone.
    assert not (adapter_dir / "README.md").exists()
    load_adapter(load_base_model(location), adapter_dir, location)
