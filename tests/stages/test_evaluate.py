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
import yaml

from conftest import PROCESS_LINE, launch, model_params, save_random_adapter, write_jsonl
from mathtune.core.schema import PREPARED_SCHEMA
from mathtune.curriculum.rows import generate_row
from mathtune.eval.metrics import headline_keys
from mathtune.eval.scoring import PREDICTIONS_SCHEMA
from mathtune.models.loading import locate_model

REPO = ROOT = Path(__file__).resolve().parents[2]
SAMPLES = 4
ARGUMENTS = {
    "--validation": "data/prepared/validation.parquet",
    "--heldout": "data/prepared/heldout.parquet",
    "--metrics": "metrics/eval.json",
    "--report": "reports/eval.json",
    "--breakdown": "reports/eval_breakdown.json",
    "--predictions": "data/eval/predictions.parquet",
    "--plot": "plots/eval_accuracy.csv",
    "--accuracy-figure": "plots/eval_accuracy.png",
    "--family-figure": "plots/eval_families.png",
}
ADAPTERS = ["--adapter", "sft=models/adapter", "--adapter", "grpo=models/grpo_adapter"]
# Prepared splits without the family column, as prepare wrote them before families existed.
SCHEMA_WITHOUT_FAMILY = PREPARED_SCHEMA.remove(PREPARED_SCHEMA.get_field_index("family"))


def write_split(path: Path, indices: range, families: list[str], schema=PREPARED_SCHEMA) -> None:
    """Synthetic rows `indices` as a prepared split, families given in turn."""
    rows = [generate_row(seed=0, index=index) for index in indices]
    rows = [
        row
        | {"target": row["solution"], "family": families[number % len(families)], "gradable": True}
        for number, row in enumerate(rows)
    ]
    columns = {name: [row[name] for row in rows] for name in schema.names}
    pq.write_table(pa.table(columns, schema=schema), path)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, tiny_model_dir) -> Path:
    """Seen and held-out splits of synthetic rows with families, and two adapters."""
    root = tmp_path_factory.mktemp("evaluate-inputs")
    (root / "data" / "prepared").mkdir(parents=True)
    write_split(root / ARGUMENTS["--validation"], range(6), ["sum", "sum", "pizza"])
    write_split(root / ARGUMENTS["--heldout"], range(6, 11), ["rectangle"])
    location = locate_model(model_params(source="local", local_dir=str(tiny_model_dir)))
    save_random_adapter(location, root / "models" / "adapter", seed=0)
    save_random_adapter(location, root / "models" / "grpo_adapter", seed=1)
    return root


def run_stage(
    workdir: Path, inputs: Path, model_dir: Path, adapters=ADAPTERS, **evaluate: object
) -> subprocess.CompletedProcess:
    """Run stages/evaluate.py in `workdir` on the tiny model, params.yaml's evaluate updated."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["model"].update(source="local", local_dir=str(model_dir), precision="fp32")
    sizes = dict(max_samples=SAMPLES, probe_samples=SAMPLES, max_new_tokens=8, batch_size=3)
    params["evaluate"].update(sizes | evaluate)
    params["wandb"]["mode"] = "offline"
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    link_inputs(workdir, inputs)
    command = [sys.executable, str(ROOT / "stages" / "evaluate.py")]
    command += [item for pair in ARGUMENTS.items() for item in pair] + adapters
    env = os.environ | {"HF_HUB_OFFLINE": "1", "WANDB_MODE": "offline", "WANDB_SILENT": "true"}
    return subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, inputs, tiny_model_dir) -> Path:
    workdir = tmp_path_factory.mktemp("evaluate-run")
    result = run_stage(workdir, inputs, tiny_model_dir)
    assert result.returncode == 0, result.stderr
    return workdir


def link_inputs(workdir: Path, inputs: Path) -> None:
    """Splits and adapters shared by runs (outputs stay apart), and the repo's probe sets."""
    sources = {"data/prepared": inputs, "models": inputs, "benchmarks": ROOT}
    for name, root in sources.items():
        if not (workdir / name).exists():
            (workdir / name).parent.mkdir(parents=True, exist_ok=True)
            (workdir / name).symlink_to(root / name)


def test_stage_writes_metrics_predictions_and_plot(first_run):
    metrics = json.loads((first_run / ARGUMENTS["--report"]).read_text())
    assert metrics["eval/samples/seen"] == SAMPLES
    assert metrics["eval/samples/heldout"] == SAMPLES
    assert metrics["eval/samples/probe"] == SAMPLES
    for model in ("base", "sft", "grpo"):
        for key in ("accuracy", "seen/accuracy", "heldout/accuracy", "format_rate"):
            assert 0.0 <= metrics[f"eval/{model}/{key}"] <= 1.0
        assert metrics[f"eval/{model}/mean_generated_tokens"] == 8.0
        assert metrics[f"eval/{model}/truncation_rate"] == 1.0, "random models never stop"
    for first, second in [("sft", "base"), ("grpo", "base"), ("grpo", "sft")]:
        delta = (
            metrics[f"eval/{first}/heldout/accuracy"] - metrics[f"eval/{second}/heldout/accuracy"]
        )
        assert metrics[f"eval/delta/{first}-{second}/heldout/accuracy"] == pytest.approx(delta)
    assert not any("tuned" in key for key in metrics)
    headline = json.loads((first_run / ARGUMENTS["--metrics"]).read_text())
    assert list(headline) == headline_keys(["base", "sft", "grpo"])
    assert len(headline) == 13 and headline == {key: metrics[key] for key in headline}

    breakdown = json.loads((first_run / ARGUMENTS["--breakdown"]).read_text())
    assert set(breakdown) == {"base", "sft", "grpo"}
    assert set(breakdown["sft"]["seen"]["by_family"]) == {"sum", "pizza"}
    # 4 of sum, sum, pizza, sum, sum, pizza taken a family at a time: 2 pizzas, not 1
    assert breakdown["sft"]["seen"]["by_family"]["pizza"]["rows"] == 2
    assert list(breakdown["sft"]["heldout"]["by_family"]) == ["rectangle"]

    predictions = pq.read_table(first_run / ARGUMENTS["--predictions"])
    assert predictions.schema == PREDICTIONS_SCHEMA
    models = predictions.column("model").to_pylist()
    assert models == ["base"] * 3 * SAMPLES + ["sft"] * 3 * SAMPLES + ["grpo"] * 3 * SAMPLES
    splits = predictions.column("split").to_pylist()[: 3 * SAMPLES]
    assert splits == ["seen"] * SAMPLES + ["heldout"] * SAMPLES + ["probe"] * SAMPLES
    generations = predictions.column("generation").to_pylist()
    base, sft, grpo = (generations[start : start + SAMPLES] for start in (0, 12, 24))
    assert base != sft and sft != grpo, "each adapter was applied in its own pass"

    with (first_run / ARGUMENTS["--plot"]).open() as handle:
        plot = list(csv.DictReader(handle))
    assert [row["model"] for row in plot] == ["base", "sft", "grpo"]
    assert float(plot[1]["heldout_accuracy"]) == metrics["eval/sft/heldout/accuracy"]
    for figure in ("--accuracy-figure", "--family-figure"):
        assert (first_run / ARGUMENTS[figure]).read_bytes().startswith(b"\x89PNG")
    assert list((first_run / "wandb").glob("offline-run-*")), "W&B offline run written"


def test_same_params_give_identical_outputs(first_run, tmp_path, inputs, tiny_model_dir):
    assert run_stage(tmp_path, inputs, tiny_model_dir).returncode == 0
    for option in ("--metrics", "--breakdown", "--plot", "--accuracy-figure", "--family-figure"):
        path = ARGUMENTS[option]
        assert (tmp_path / path).read_bytes() == (first_run / path).read_bytes()
    path = ARGUMENTS["--predictions"]
    assert pq.read_table(tmp_path / path).equals(pq.read_table(first_run / path))


@pytest.mark.skipif(find_spec("vllm") is not None, reason="vllm is installed here")
def test_vllm_backend_without_vllm_fails_before_loading_a_model(tmp_path, inputs, tiny_model_dir):
    result = run_stage(tmp_path, inputs, tiny_model_dir, backend="vllm")
    assert result.returncode == 2
    assert "evaluate.backend = 'vllm' needs a CUDA GPU" in result.stderr
    assert "evaluate.backend: transformers" in result.stderr
    assert "Loading weights" not in result.stderr
    assert not (tmp_path / ARGUMENTS["--metrics"]).exists()


def test_adapter_of_another_base_model_is_refused(tmp_path, inputs, tiny_model_dir):
    other_base = tmp_path / "other-base"
    other_base.symlink_to(tiny_model_dir)
    result = run_stage(tmp_path / "run", inputs, other_base)
    assert result.returncode != 0
    assert "evaluate failed: The adapter in models/adapter was trained on" in result.stderr
    assert not (tmp_path / "run" / ARGUMENTS["--metrics"]).exists()


def test_split_without_family_column_names_the_fix(tmp_path, inputs, tiny_model_dir):
    workdir = tmp_path / "run"
    (workdir / "data" / "prepared").mkdir(parents=True)
    write_split(
        workdir / ARGUMENTS["--validation"], range(3), ["sum"], schema=SCHEMA_WITHOUT_FAMILY
    )
    (workdir / ARGUMENTS["--heldout"]).symlink_to(inputs / ARGUMENTS["--heldout"])
    result = run_stage(workdir, inputs, tiny_model_dir)
    assert result.returncode != 0
    assert "missing ['family']" in result.stderr and "dvc repro prepare" in result.stderr
    assert "Loading weights" not in result.stderr


def test_bad_adapter_option_is_refused(tmp_path, inputs, tiny_model_dir):
    result = run_stage(tmp_path, inputs, tiny_model_dir, adapters=["--adapter", "base=models"])
    assert result.returncode == 2
    assert "expected NAME=PATH" in result.stderr


def evaluate_stage(workdir: Path, inputs: Path, model_dir: Path, processes: int):
    """The evaluate stage in bf16 with a sampled local benchmark, on `processes` processes.

    11 greedy prompts (6 seen, 5 held-out) and 5 benchmark problems sampled twice, in batches
    of 3: contiguous shares of each request, batched by each rank, would form other batches
    than one process does, and in bf16 another batch shape can flip near-tie tokens.
    """
    workdir.mkdir(parents=True)
    gsm8k = [
        {"question": generate_row(seed=0, index=index)["problem"], "answer": f"#### {index}"}
        for index in range(20, 25)
    ]
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["model"].update(source="local", local_dir=str(model_dir), precision="bf16")
    params["evaluate"].update(max_samples=6, probe_samples=4, max_new_tokens=16, batch_size=3)
    params["evaluate"]["benchmarks"]["gsm8k"].update(
        source="local", local_files=[write_jsonl(workdir / "gsm8k.jsonl", gsm8k)]
    )
    params["evaluate"]["benchmarks"].update(
        max_new_tokens=16, samples=2, temperature=1.0, max_samples=None
    )
    params["wandb"]["mode"] = "offline"
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    link_inputs(workdir, inputs)
    arguments = [item for pair in ARGUMENTS.items() for item in pair] + ADAPTERS
    result = launch(workdir, processes, [str(REPO / "stages/evaluate.py"), *arguments])
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.mark.slow
def test_sharded_evaluation_writes_the_files_of_one_process(inputs, tiny_model_dir, tmp_path):
    evaluate_stage(tmp_path / "one", inputs, tiny_model_dir, 1)
    two = evaluate_stage(tmp_path / "two", inputs, tiny_model_dir, 2)
    ranks = {(rank, pid) for rank, world, pid in PROCESS_LINE.findall(two.stderr) if world == "2"}
    assert len(ranks) == 2 and {rank for rank, _ in ranks} == {"0", "1"}, two.stderr[-2000:]
    rows = {
        run: pq.read_table(tmp_path / run / ARGUMENTS["--predictions"]).to_pylist()
        for run in ("one", "two")
    }
    samples = {(row["split"], row["sample"]) for row in rows["one"]}
    assert {("gsm8k", 0), ("gsm8k", 1), ("seen", None), ("heldout", None)} <= samples
    for what, sampled in (("greedy (bf16) answers", False), ("pass@1 samples", True)):
        picked = {
            run: [row for row in rows[run] if (row["sample"] is not None) == sampled]
            for run in rows
        }
        assert picked["two"] == picked["one"], f"{what} differ from one process's"
    for option in ("--predictions", "--metrics", "--plot"):
        path = ARGUMENTS[option]
        assert (tmp_path / "two" / path).read_bytes() == (tmp_path / "one" / path).read_bytes()
    assert len(list((tmp_path / "two" / "wandb").glob("offline-run-*"))) == 1
    assert two.stdout.count("eval/samples/seen: 6") == 1, "metrics printed by one rank"
