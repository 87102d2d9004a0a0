"""stages/export.py end to end on the tiny model: the adapter params pick, early failures."""

from __future__ import annotations

import hashlib
import json
import runpy
import sys
from pathlib import Path

import pytest
import yaml

from conftest import changed, model_params, save_random_adapter, stage_fails, tiny_params
from mathtune.core.params import params_as_dict
from mathtune.export.merge import RECORD_FILE
from mathtune.models.loading import locate_model

STAGE = Path(__file__).resolve().parents[2] / "stages" / "export.py"
ARGUMENTS = [
    *("--sft-adapter-dir", "models/adapter"),
    *("--grpo-adapter-dir", "models/grpo_adapter"),
    *("--out-dir", "models/merged"),
]


@pytest.fixture(scope="module")
def adapters(tiny_model_dir, tmp_path_factory) -> Path:
    """models/adapter and models/grpo_adapter for the tiny model (different weights)."""
    root = tmp_path_factory.mktemp("export-inputs")
    location = locate_model(model_params(source="local", local_dir=str(tiny_model_dir)))
    save_random_adapter(location, root / "models" / "adapter", seed=0)
    save_random_adapter(location, root / "models" / "grpo_adapter", seed=1)
    return root / "models"


def run_stage(workdir: Path, adapters: Path, model_dir: Path, monkeypatch, **export) -> None:
    """Run stages/export.py in `workdir` with the tiny model and params.yaml's export updated."""
    params = tiny_params(model_dir)
    params = changed(params, export=changed(params.export, **export))
    (workdir / "params.yaml").write_text(yaml.safe_dump(params_as_dict(params)))
    (workdir / "models").mkdir()
    for name in ("adapter", "grpo_adapter"):
        (workdir / "models" / name).symlink_to(adapters / name)
    monkeypatch.chdir(workdir)
    monkeypatch.setattr(sys, "argv", [str(STAGE), *ARGUMENTS])
    runpy.run_path(str(STAGE), run_name="__main__")


def adapter_hash(folder: Path) -> str:
    return hashlib.sha256((folder / "adapter_model.safetensors").read_bytes()).hexdigest()


@pytest.mark.parametrize("adapter, folder", [("grpo", "grpo_adapter"), ("sft", "adapter")])
def test_stage_merges_the_adapter_params_name(
    adapter, folder, adapters, tiny_model_dir, tmp_path, monkeypatch
):
    run_stage(tmp_path, adapters, tiny_model_dir, monkeypatch, adapter=adapter, dtype="bf16")
    merged = tmp_path / "models" / "merged"
    record = json.loads((merged / RECORD_FILE).read_text())
    assert record["adapter"] == adapter and record["dtype"] == "bf16"
    assert record["adapter_sha256"] == adapter_hash(adapters / folder)
    assert {"config.json", "generation_config.json", "model.safetensors"} <= {
        path.name for path in merged.iterdir()
    }
    assert [
        path.name for path in (tmp_path / "models").iterdir() if path.name.startswith(".")
    ] == []


def test_an_adapter_of_another_base_stops_the_stage_before_anything_is_written(
    capsys, adapters, tiny_model_dir, tmp_path, monkeypatch
):
    stale = tmp_path / "stale"
    for name in ("adapter", "grpo_adapter"):
        (stale / name).mkdir(parents=True)
        for item in (adapters / name).iterdir():
            (stale / name / item.name).write_bytes(item.read_bytes())
        config = json.loads((stale / name / "adapter_config.json").read_text())
        config["base_model_name_or_path"] = "hub:Qwen/Qwen2.5-0.5B@060db64"
        (stale / name / "adapter_config.json").write_text(json.dumps(config))
    workdir = tmp_path / "work"
    workdir.mkdir()
    with stage_fails(capsys, "was trained on 'hub:Qwen/Qwen2.5-0.5B@060db64'.*Fix: rerun"):
        run_stage(workdir, stale, tiny_model_dir, monkeypatch)
    assert sorted(path.name for path in (workdir / "models").iterdir()) == [
        "adapter",
        "grpo_adapter",
    ]
