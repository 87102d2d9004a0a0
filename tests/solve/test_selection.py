"""--model: the pipeline's folders from dvc.yaml, adapters checked against the base, folders
that hold no model refused, all before any weights load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from conftest import TINY_PROBLEMS, model_params, save_random_adapter
from mathtune.models.generation import Decoding, generate_batched
from mathtune.models.loading import ModelLoadError, load_adapter, load_base_model
from mathtune.models.prompts import format_prompt
from mathtune.solve.selection import (
    ModelChoiceError,
    choose_model,
    load_choice,
    pipeline_model_dirs,
)

REPO = Path(__file__).resolve().parents[2]


def test_the_pipeline_folders_are_the_stages_outputs():
    assert pipeline_model_dirs(REPO / "dvc.yaml") == {
        "sft": Path("models/adapter"),
        "grpo": Path("models/grpo_adapter"),
        "merged": Path("models/merged"),
    }


@pytest.fixture
def tiny_params(tiny_model_dir):
    return model_params(source="local", local_dir=str(tiny_model_dir))


@pytest.fixture
def repo_root(tmp_path, monkeypatch) -> Path:
    """An empty checkout: dvc.yaml but no models yet."""
    (tmp_path / "dvc.yaml").symlink_to(REPO / "dvc.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_base_is_the_params_model(tiny_params, tiny_location, repo_root):
    choice = choose_model("base", tiny_params)
    assert (choice.location, choice.adapter_dir) == (tiny_location, None)


@pytest.mark.parametrize("name, stage", [("sft", "train"), ("grpo", "grpo"), ("merged", "export")])
def test_a_pipeline_model_not_yet_made_names_the_stage_to_run(name, stage, tiny_params, repo_root):
    with pytest.raises(ModelChoiceError, match=f"does not exist yet. Fix: run `dvc repro {stage}`"):
        choose_model(name, tiny_params)


def test_without_dvc_yaml_a_pipeline_name_says_where_to_run(tiny_params, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelChoiceError, match="dvc.yaml not found.*repository root"):
        choose_model("merged", tiny_params)


def test_an_adapter_folder_goes_on_the_params_base(tiny_params, tiny_location, repo_root):
    save_random_adapter(tiny_location, repo_root / "models" / "adapter", seed=0)
    choice = choose_model("sft", tiny_params)
    assert choice.adapter_dir == Path("models/adapter") and choice.location == tiny_location
    assert choose_model("models/adapter", tiny_params).adapter_dir == Path("models/adapter")


def test_an_adapter_of_another_base_is_refused_before_loading(tiny_params, tiny_location, tmp_path):
    save_random_adapter(tiny_location, tmp_path / "adapter", seed=0)
    config_file = tmp_path / "adapter" / "adapter_config.json"
    config = json.loads(config_file.read_text()) | {"base_model_name_or_path": "embedded:other"}
    config_file.write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="was trained on 'embedded:other'"):
        choose_model(str(tmp_path / "adapter"), tiny_params)


def test_a_model_folder_loads_as_a_local_model(tiny_params, tiny_model_dir, tmp_path):
    shutil.copytree(tiny_model_dir, tmp_path / "copy")
    choice = choose_model(str(tmp_path / "copy"), model_params())  # whatever params' base is
    assert choice.location.description == f"local:{tmp_path / 'copy'}"
    assert choice.adapter_dir is None


@pytest.mark.parametrize(
    "files",
    [
        [],  # an empty folder
        ["config.json"],  # a config without weights
        ["config.json", "pytorch_model.bin"],  # pickle weights, never loaded
    ],
)
def test_a_folder_without_a_model_is_refused(files, tiny_params, tmp_path):
    for name in files:
        (tmp_path / name).write_text("{}")
    with pytest.raises(ModelChoiceError, match="is not a model: it holds neither"):
        choose_model(str(tmp_path), tiny_params)


def test_a_loaded_adapter_answers_as_base_plus_adapter(tiny_params, tiny_location, tmp_path):
    save_random_adapter(tiny_location, tmp_path / "adapter", seed=0)
    model, tokenizer = load_choice(choose_model(str(tmp_path / "adapter"), tiny_params), "fp32")
    assert model.dtype == torch.float32 and not model.training
    reference = load_adapter(load_base_model(tiny_location), tmp_path / "adapter", tiny_location)
    prompts = [format_prompt(tokenizer, problem) for problem in TINY_PROBLEMS[:2]]
    decoding = Decoding(6)
    assert generate_batched(model, tokenizer, prompts, decoding, 2) == generate_batched(
        reference.eval(), tokenizer, prompts, decoding, 2
    )
