"""stages/evaluate.py end to end on the tiny model: outputs, determinism and early failures."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
import yaml

from conftest import model_params
from mathtune.curriculum import generate_row
from mathtune.evaluation import PREDICTIONS_SCHEMA
from mathtune.models import add_lora_adapter, load_base_model, locate_model
from mathtune.params import LoraParams
from mathtune.schema import PREPARED_SCHEMA

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = 4
ARGUMENTS = {
    "--validation": "data/prepared/validation.parquet",
    "--adapter-dir": "models/adapter",
    "--metrics": "metrics/eval.json",
    "--predictions": "data/eval/predictions.parquet",
    "--plot": "plots/eval_accuracy.csv",
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, tiny_model_dir) -> Path:
    """A validation split of 6 synthetic rows and an adapter whose LoRA is not a no-op."""
    root = tmp_path_factory.mktemp("evaluate-inputs")
    rows = [generate_row(seed=0, index=index) for index in range(6)]
    rows = [
        row | {"target": row["solution"], "family": row["source"], "gradable": True} for row in rows
    ]
    columns = {name: [row[name] for row in rows] for name in PREPARED_SCHEMA.names}
    (root / "data" / "prepared").mkdir(parents=True)
    pq.write_table(pa.table(columns, schema=PREPARED_SCHEMA), root / ARGUMENTS["--validation"])
    location = locate_model(model_params(source="local", local_dir=str(tiny_model_dir)))
    model = add_lora_adapter(load_base_model(location), LoraParams(4, 8, 0.0, ["q_proj", "v_proj"]))
    torch.manual_seed(0)
    for name, weight in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(weight, std=1.0)
    model.peft_config["default"].base_model_name_or_path = location.description
    model.save_pretrained(root / ARGUMENTS["--adapter-dir"])
    return root


def run_stage(
    workdir: Path, inputs: Path, model_dir: Path, **evaluate: object
) -> subprocess.CompletedProcess:
    """Run stages/evaluate.py in `workdir` on the tiny model, params.yaml's evaluate updated."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["model"].update(source="local", local_dir=str(model_dir), precision="fp32")
    params["evaluate"].update(dict(max_samples=SAMPLES, max_new_tokens=8, batch_size=3) | evaluate)
    params["wandb"]["mode"] = "offline"
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    for name in ("data/prepared", "models"):  # inputs shared by runs; outputs stay apart
        if not (workdir / name).exists():
            (workdir / name).parent.mkdir(parents=True, exist_ok=True)
            (workdir / name).symlink_to(inputs / name)
    command = [sys.executable, str(ROOT / "stages" / "evaluate.py")]
    command += [item for pair in ARGUMENTS.items() for item in pair]
    env = os.environ | {"HF_HUB_OFFLINE": "1", "WANDB_MODE": "offline", "WANDB_SILENT": "true"}
    return subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, inputs, tiny_model_dir) -> Path:
    workdir = tmp_path_factory.mktemp("evaluate-run")
    result = run_stage(workdir, inputs, tiny_model_dir)
    assert result.returncode == 0, result.stderr
    return workdir


def test_stage_writes_metrics_predictions_and_plot(first_run):
    metrics = json.loads((first_run / ARGUMENTS["--metrics"]).read_text())
    assert metrics["eval/samples"] == SAMPLES
    for key in ("accuracy", "format_rate", "reasoning_quality", "mean_reward", "truncation_rate"):
        assert 0.0 <= metrics[f"eval/base/{key}"] <= 1.0
        delta = metrics[f"eval/tuned/{key}"] - metrics[f"eval/base/{key}"]
        assert metrics[f"eval/delta/{key}"] == pytest.approx(delta, abs=1e-6)
    assert metrics["eval/base/truncation_rate"] == 1.0, "a random model never stops in 8 tokens"
    assert metrics["eval/tuned/mean_generated_tokens"] == 8.0
    assert any(key.startswith("eval/tuned/accuracy/") for key in metrics)

    predictions = pq.read_table(first_run / ARGUMENTS["--predictions"])
    assert predictions.schema == PREDICTIONS_SCHEMA
    assert predictions.column("model").to_pylist() == ["base"] * SAMPLES + ["tuned"] * SAMPLES
    uuids = [generate_row(seed=0, index=index)["uuid"] for index in range(SAMPLES)]
    assert predictions.column("uuid").to_pylist() == uuids * 2, "first rows, in file order"
    base, tuned = (predictions.slice(start, SAMPLES) for start in (0, SAMPLES))
    assert base.column("generation") != tuned.column("generation"), "the adapter was applied"

    with (first_run / ARGUMENTS["--plot"]).open() as handle:
        plot = list(csv.DictReader(handle))
    assert [row["model"] for row in plot] == ["base", "tuned"]
    assert float(plot[1]["accuracy"]) == metrics["eval/tuned/accuracy"]
    assert list((first_run / "wandb").glob("offline-run-*")), "W&B offline run written"


def test_same_params_give_identical_outputs(first_run, tmp_path, inputs, tiny_model_dir):
    assert run_stage(tmp_path, inputs, tiny_model_dir).returncode == 0
    for option in ("--metrics", "--plot"):
        path = ARGUMENTS[option]
        assert (tmp_path / path).read_bytes() == (first_run / path).read_bytes()
    path = ARGUMENTS["--predictions"]
    assert pq.read_table(tmp_path / path).equals(pq.read_table(first_run / path))


@pytest.mark.skipif(find_spec("vllm") is not None, reason="vllm is installed here")
def test_vllm_backend_without_vllm_fails_before_loading_a_model(tmp_path, inputs, tiny_model_dir):
    result = run_stage(tmp_path, inputs, tiny_model_dir, backend="vllm")
    assert result.returncode != 0
    assert "`make setup-gpu`" in result.stderr and "GPU" in result.stderr
    assert "Loading weights" not in result.stderr
    assert not (tmp_path / ARGUMENTS["--metrics"]).exists()


def test_adapter_of_another_base_model_is_refused(tmp_path, inputs, tiny_model_dir):
    other_base = tmp_path / "other-base"
    other_base.symlink_to(tiny_model_dir)
    result = run_stage(tmp_path / "run", inputs, other_base)
    assert result.returncode != 0
    assert "evaluate failed: The adapter in models/adapter was trained on" in result.stderr
    assert not (tmp_path / "run" / ARGUMENTS["--metrics"]).exists()
