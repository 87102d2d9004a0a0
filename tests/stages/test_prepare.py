import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from mathtune.core.schema import PREPARED_SCHEMA
from mathtune.curriculum.rows import generate_row
from mathtune.data.examples import DROP_REASONS

ROOT = Path(__file__).resolve().parents[2]
SPLIT_FILES = ("train", "validation", "heldout")
OUTPUTS = tuple(f"data/prepared/{name}.parquet" for name in SPLIT_FILES)
REPORT = "reports/prepare.json"
STATS = "data/prepared/stats.json"


def run_stage(workdir: Path, **prepare: object) -> subprocess.CompletedProcess:
    """Run stages/prepare.py in `workdir` with params.yaml's prepare section updated."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    defaults = {"synthetic": {"rows": 240, "seed": 0}, "decontaminate_against": []}
    params["prepare"] |= defaults | prepare
    params["evaluate"]["probe_sets"] = []  # no evaluation here: nothing to keep out of training
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    command = [sys.executable, str(ROOT / "stages" / "prepare.py"), "--out-dir", "data/prepared"]
    env = os.environ | {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    return subprocess.run(
        [*command, "--report", REPORT, "--stats", STATS],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
    )


def read_metrics(workdir: Path) -> dict:
    return json.loads((workdir / REPORT).read_text())


def test_synthetic_run_writes_three_splits_metrics_and_statistics(tmp_path):
    result = run_stage(tmp_path)
    assert result.returncode == 0, result.stderr
    tables = {
        name: pq.read_table(tmp_path / path)
        for name, path in zip(SPLIT_FILES, OUTPUTS, strict=True)
    }
    assert all(table.schema == PREPARED_SCHEMA for table in tables.values())
    metrics = read_metrics(tmp_path)
    for name, table in tables.items():
        assert metrics[f"prepare/rows/{name}"] == table.num_rows > 0
    assert metrics["prepare/rows/kept"] == metrics["prepare/rows/read"] == 240
    heldout = set(yaml.safe_load((ROOT / "params.yaml").read_text())["prepare"]["heldout_families"])
    assert set(tables["heldout"]["family"].to_pylist()) == heldout
    assert not heldout & set(tables["train"]["family"].to_pylist())
    assert all("\\boxed{" in target for target in tables["train"]["target"].to_pylist())
    stats = json.loads((tmp_path / STATS).read_text())
    assert stats["target_chars"]["max"] >= stats["target_chars"]["p95"] > 0
    assert sorted(stats["families"]["heldout"]) == sorted(heldout)
    assert not [key for key in metrics if "chars" in key]  # statistics stay out of metrics


def test_same_params_give_byte_identical_outputs(tmp_path):
    for name in ("one", "two"):
        assert run_stage(tmp_path / name, target="trace").returncode == 0
    for path in (*OUTPUTS, REPORT, STATS):
        assert (tmp_path / "one" / path).read_bytes() == (tmp_path / "two" / path).read_bytes()


def test_trace_target_with_max_rows(tmp_path):
    result = run_stage(tmp_path, target="trace", max_rows=50)
    assert result.returncode == 0, result.stderr
    metrics = read_metrics(tmp_path)
    assert metrics["prepare/rows/kept"] == metrics["prepare/rows/read"] == 50
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
    assert sum(metrics[f"prepare/rows/{name}"] for name in SPLIT_FILES) == 60


def test_ungradable_and_contaminated_rows_are_counted_and_kept_out_of_scoring(tmp_path):
    rows = [generate_row(seed=1, index=index) for index in range(92)]  # two of each family
    seen = next(row for row in rows if row["source"] == "synthetic/mean")
    held = next(row for row in rows if row["source"] == "synthetic/savings")
    rows += [
        {**seen, "uuid": "proof-row", "answer": "proof"},  # trains, never scored
        {**held, "uuid": "held-notfound", "answer": "notfound"},  # held out and unscorable
    ]
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    benchmark = tmp_path / "bench.jsonl"  # GSM8K's column name
    victim = next(row for row in rows if row["source"] == "synthetic/handshakes")
    benchmark.write_text(json.dumps({"question": victim["problem"], "answer": "x"}) + "\n")
    files = {"local_files": [str(data)], "decontaminate_against": [str(benchmark)]}
    result = run_stage(tmp_path, source="local", **files)
    assert result.returncode == 0, result.stderr
    metrics = read_metrics(tmp_path)
    assert metrics["prepare/dropped/ungradable_heldout"] == 1
    # Both handshakes rows share the template's 8-grams with the benchmark problem.
    assert metrics["prepare/dropped/contaminated_benchmark"] == 2
    assert metrics["prepare/rows/ungradable_train"] == 1
    tables = {
        name: pq.read_table(tmp_path / path)
        for name, path in zip(SPLIT_FILES, OUTPUTS, strict=True)
    }
    assert "proof-row" in tables["train"]["uuid"].to_pylist()
    for name in ("validation", "heldout"):
        assert all(tables[name]["gradable"].to_pylist())


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
        ({"decontaminate_against": ["absent.jsonl"]}, ["absent.jsonl", "not found"]),
        ({"heldout_families": ["Calculus"]}, ["['Calculus']", "prepare.heldout_families"]),
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
