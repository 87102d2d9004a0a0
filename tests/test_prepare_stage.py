import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from mathtune.curriculum import generate_row
from mathtune.examples import DROP_REASONS
from mathtune.schema import PREPARED_SCHEMA

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = ("data/prepared/train.parquet", "data/prepared/validation.parquet")
METRICS = "metrics/prepare.json"


def run_stage(workdir: Path, **prepare: object) -> subprocess.CompletedProcess:
    """Run stages/prepare.py in `workdir` with params.yaml's prepare section updated."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["prepare"] |= {"synthetic": {"rows": 120, "seed": 0}} | prepare
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    command = [sys.executable, str(ROOT / "stages" / "prepare.py"), "--out-dir", "data/prepared"]
    env = os.environ | {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    return subprocess.run(
        [*command, "--metrics", METRICS], cwd=workdir, env=env, capture_output=True, text=True
    )


def read_metrics(workdir: Path) -> dict:
    return json.loads((workdir / METRICS).read_text())


def test_synthetic_run_writes_both_splits_and_metrics(tmp_path):
    result = run_stage(tmp_path)
    assert result.returncode == 0, result.stderr
    train, validation = (pq.read_table(tmp_path / path) for path in OUTPUTS)
    assert train.schema == PREPARED_SCHEMA == validation.schema
    metrics = read_metrics(tmp_path)
    assert metrics["prepare/rows/train"] == train.num_rows > 0
    assert metrics["prepare/rows/validation"] == validation.num_rows > 0
    assert train.num_rows + validation.num_rows == metrics["prepare/rows/read"] == 120
    assert all(metrics[f"prepare/dropped/{reason}"] == 0 for reason in DROP_REASONS)
    assert metrics["prepare/target_chars/max"] >= metrics["prepare/target_chars/p95"] > 0
    assert all("\\boxed{" in target for target in train["target"].to_pylist())


def test_same_params_give_byte_identical_outputs(tmp_path):
    for name in ("one", "two"):
        assert run_stage(tmp_path / name, target="trace").returncode == 0
    for path in (*OUTPUTS, METRICS):
        assert (tmp_path / "one" / path).read_bytes() == (tmp_path / "two" / path).read_bytes()


def test_trace_target_with_max_rows(tmp_path):
    result = run_stage(tmp_path, target="trace", max_rows=50)
    assert result.returncode == 0, result.stderr
    metrics = read_metrics(tmp_path)
    assert metrics["prepare/rows/after_limit"] == metrics["prepare/rows/read"] == 50
    assert metrics["prepare/rows/train"] + metrics["prepare/rows/validation"] == 50
    targets = pq.read_table(tmp_path / OUTPUTS[0])["target"].to_pylist()
    assert all(target.startswith("<think>") and "</think>" in target for target in targets)


def test_local_file_with_bad_rows_counts_each_drop(tmp_path):
    rows = [generate_row(seed=5, index=index) for index in range(60)]
    rows += [
        {**rows[0], "uuid": "n1", "problem": None},
        {**rows[0], "uuid": "n2", "answer": ""},
        {**rows[0], "uuid": "n3", "answer": 12},
        {**rows[0], "uuid": "n4", "solution": "   "},
        rows[1],  # a duplicate uuid
    ]
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = run_stage(tmp_path, source="local", local_files=[str(data)])
    assert result.returncode == 0, result.stderr
    metrics = read_metrics(tmp_path)
    assert {reason: metrics[f"prepare/dropped/{reason}"] for reason in DROP_REASONS} == {
        "non_string_field": 1,
        "missing_uuid": 0,
        "missing_problem": 1,
        "missing_answer": 1,
        "missing_target": 1,
        "duplicate_uuid": 1,
    }
    assert metrics["prepare/rows/train"] + metrics["prepare/rows/validation"] == 60


@pytest.mark.parametrize(
    ("prepare", "words"),
    [
        ({"source": "local", "local_files": ["rows.csv"]}, ["rows.csv", ".parquet, .jsonl"]),
        ({"source": "local", "local_files": ["absent.parquet"]}, ["absent.parquet", "not found"]),
        ({"source": "hub"}, ["open-r1/OpenR1-Math-220k", "prepare.source: local"]),
        (
            {"synthetic": {"rows": 10, "seed": 0}, "validation_fraction": 0.001},
            ["validation split"],
        ),
        ({"target": "answer"}, ["prepare.target", "'answer'"]),
    ],
)
def test_bad_setups_stop_with_a_message_and_no_outputs(tmp_path, prepare, words):
    (tmp_path / "rows.csv").write_text("problem,answer\n1+1,2\n")
    result = run_stage(tmp_path, **prepare)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    # atomic_path may leave the parent folder, but nothing inside it.
    assert not (tmp_path / "metrics").exists()
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").rglob("*"))
