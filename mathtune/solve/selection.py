"""Which model answers `mathtune solve`: `--model base | sft | grpo | merged | PATH`.

- `base`: the base model that params.yaml `model:` selects;
- `sft`, `grpo`: that base + the adapter the train or grpo stage wrote;
- `merged`: the export stage's folder, the adapter already merged into the weights;
- PATH: a LoRA adapter folder (adapter_config.json), put on the params' base, or a saved
  model folder (config.json + *.safetensors), such as a copy of models/merged.

The folders behind `sft`, `grpo` and `merged` are read from dvc.yaml (each stage's first
output), so every path stays declared once. All is checked before any weights load: an
adapter must have been trained on the params' base, a folder must hold a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from transformers import PreTrainedModel
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from mathtune.core.errors import MathtuneError
from mathtune.core.params import ModelParams
from mathtune.models.generation import prepare_for_generation
from mathtune.models.loading import (
    ModelLocation,
    check_adapter,
    load_adapter,
    load_base_model,
    load_tokenizer,
    locate_model,
)

DVC_FILE = Path("dvc.yaml")
# --model names of the pipeline's models, and the stage that writes each.
PIPELINE_MODELS = {"sft": "train", "grpo": "grpo", "merged": "export"}
CHOICES = ("base", *PIPELINE_MODELS)


class ModelChoiceError(MathtuneError):
    """--model names no model that can answer; the message says the fix."""


@dataclass(frozen=True)
class ModelChoice:
    """A model to load: from `location`, plus the adapter in `adapter_dir` if any."""

    name: str  # what --model said: base, sft, grpo, merged or the path
    location: ModelLocation
    adapter_dir: Path | None


def pipeline_model_dirs(dvc_file: Path = DVC_FILE) -> dict[str, Path]:
    """The folder of each pipeline model (sft, grpo, merged): its stage's first output."""
    if not dvc_file.is_file():
        raise ModelChoiceError(
            f"{dvc_file} not found, so the pipeline's models cannot be found. Fix: run "
            "mathtune from the repository root, or pass --model a model or adapter folder."
        )
    stages = yaml.safe_load(dvc_file.read_text())["stages"]
    return {name: Path(stages[stage]["outs"][0]) for name, stage in PIPELINE_MODELS.items()}


def choose_model(name: str, params: ModelParams, dvc_file: Path = DVC_FILE) -> ModelChoice:
    """The model `--model name` means, checked before any weights load."""
    if name == "base":
        return ModelChoice(name, locate_model(params), None)
    if name in PIPELINE_MODELS:
        folder = pipeline_model_dirs(dvc_file)[name]
        if not folder.is_dir():
            raise ModelChoiceError(
                f"--model {name}: {folder} does not exist yet. Fix: run `dvc repro "
                f"{PIPELINE_MODELS[name]}` (or `make repro`) first."
            )
    else:
        folder = Path(name)
        if not folder.is_dir():
            raise ModelChoiceError(
                f"--model {name} is not {', '.join(CHOICES)} nor a folder. Fix: pass one of "
                "those names, or the folder of a saved model or LoRA adapter."
            )
    return _choose_folder(name, folder, params)


def _choose_folder(name: str, folder: Path, params: ModelParams) -> ModelChoice:
    if (folder / "adapter_config.json").is_file():
        location = locate_model(params)
        check_adapter(folder, location)
        return ModelChoice(name, location, folder)
    if (folder / "config.json").is_file() and any(folder.glob("*.safetensors")):
        local = params.model_copy(update={"source": "local", "local_dir": str(folder)})
        return ModelChoice(name, locate_model(local), None)
    raise ModelChoiceError(
        f"--model {name}: {folder} is not a model: it holds neither config.json + *.safetensors "
        "(a saved model, such as models/merged) nor adapter_config.json (a LoRA adapter, such "
        "as models/adapter). Fix: pass base, sft, grpo, merged or such a folder."
    )


def load_choice(
    choice: ModelChoice, precision: str
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The chosen model ready to generate (in the compute dtype of `precision`), and its
    tokenizer; an adapter stays unmerged, as the evaluate stage runs it."""
    tokenizer = load_tokenizer(choice.location)
    model = load_base_model(choice.location)
    if choice.adapter_dir is not None:
        model = load_adapter(model, choice.adapter_dir, choice.location)
    return prepare_for_generation(model, precision), tokenizer
