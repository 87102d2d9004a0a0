"""The train stage end to end: outputs, checkpoint clean-up, early errors, no secrets."""

from __future__ import annotations

import csv
import json
import runpy
import sys
from pathlib import Path

import pytest
import yaml

from conftest import changed, make_rows, model_params, stage_fails, tiny_params, write_rows
from mathtune.core.params import Params, params_as_dict

SECRETS = {"WANDB_API_KEY": "wandb-secret-0123456789", "HF_TOKEN": "hf_secret0123456789"}
STAGE = Path(__file__).resolve().parents[2] / "stages" / "train.py"
OUTPUTS = [
    "models/adapter",
    "metrics/train.json",
    "reports/train.json",
    "plots/train_loss.csv",
    "plots/train_loss.png",
]


def run_stage(directory: Path, params: Params, monkeypatch) -> None:
    """Run `stages/train.py` in `directory` with `params` as its params.yaml."""
    (directory / "params.yaml").write_text(yaml.safe_dump(params_as_dict(params)))
    write_rows(directory / "train.parquet", make_rows(8))
    write_rows(directory / "validation.parquet", make_rows(10)[8:])
    monkeypatch.chdir(directory)
    arguments = "--train train.parquet --validation validation.parquet --adapter-dir "
    arguments += "models/adapter --checkpoint-dir checkpoints/train --metrics metrics/train.json "
    arguments += (
        "--report reports/train.json --plot plots/train_loss.csv --figure plots/train_loss.png"
    )
    monkeypatch.setattr(sys, "argv", [str(STAGE), *arguments.split()])
    runpy.run_path(str(STAGE), run_name="__main__")


def test_stage_writes_adapter_metrics_and_plot_then_removes_checkpoints(
    tiny_model_dir, tmp_path, monkeypatch, capsys
):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    params = tiny_params(tiny_model_dir, max_steps=4, eval_steps=2)
    params = changed(params, wandb=changed(params.wandb, mode="offline"))
    run_stage(tmp_path, params, monkeypatch)

    adapter = tmp_path / "models/adapter"
    assert {"adapter_model.safetensors", "adapter_config.json", "tokenizer.json"} <= {
        path.name for path in adapter.iterdir()
    }
    metrics = json.loads((tmp_path / "reports/train.json").read_text())
    assert metrics["train/steps"] == 4 and metrics["eval/loss"] > 0
    headline = json.loads((tmp_path / "metrics/train.json").read_text())
    assert list(headline) == ["train/loss", "eval/loss"]
    assert headline == {key: metrics[key] for key in headline}
    with (tmp_path / "plots/train_loss.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert [row["step"] for row in rows] == ["1", "2", "3", "4"]
    assert rows[1]["eval_loss"] and not rows[0]["eval_loss"]
    assert (tmp_path / "plots/train_loss.png").read_bytes().startswith(b"\x89PNG")
    assert not (tmp_path / "checkpoints/train").exists()
    assert not list(tmp_path.glob("**/.*.*"))  # no temporary leftovers of atomic writes
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert any("wandb" in path.parts for path in written)  # the offline W&B run
    texts = [path.read_bytes() for path in written] + [capsys.readouterr().out.encode()]
    for secret in SECRETS.values():
        assert not [text for text in texts if secret.encode() in text]


def test_stage_stops_on_unknown_lora_target_before_loading_anything(
    capsys, tiny_model_dir, tmp_path, monkeypatch
):
    params = tiny_params(tiny_model_dir)
    lora = changed(params.train.lora, target_modules=["query_key_value"])
    params = changed(
        params,
        train=changed(params.train, lora=lora),
        wandb=changed(params.wandb, mode="offline"),
    )
    with stage_fails(capsys, "train.lora.target_modules.*query_key_value"):
        run_stage(tmp_path, params, monkeypatch)
    assert not [output for output in OUTPUTS if (tmp_path / output).exists()]
    assert not (tmp_path / "checkpoints").exists()
    assert not (tmp_path / "wandb").exists()  # no W&B run for params that never trained


@pytest.mark.slow
def test_stage_trains_the_embedded_model(tiny_model_dir, tmp_path, monkeypatch):
    params = tiny_params(tiny_model_dir, max_steps=1, eval_steps=1, save_steps=1)
    params = changed(params, model=model_params(precision="auto"))
    run_stage(tmp_path, params, monkeypatch)
    config = json.loads((tmp_path / "models/adapter/adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == "embedded:SmolLM2-135M-Instruct.Q4_1.gguf"
    # Nothing names where this checkout is, so every clone writes the same adapter bytes.
    adapter_files = (tmp_path / "models/adapter").iterdir()
    assert not [path.name for path in adapter_files if b"site-packages" in path.read_bytes()]
    assert json.loads((tmp_path / "reports/train.json").read_text())["train/steps"] == 1
