"""Atomic writes: a failed write leaves the previous result (or nothing), never half a file."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mathtune.core.io import atomic_path, write_json, write_metrics, write_parquet


def test_json_is_sorted_and_stable(tmp_path):
    path = tmp_path / "metrics" / "m.json"
    write_json(path, {"b": 1, "a": 2.5})
    assert path.read_text() == '{\n  "a": 2.5,\n  "b": 1\n}\n'


def test_parquet_round_trip(tmp_path):
    path = tmp_path / "data" / "split.parquet"
    write_parquet(path, pa.table({"x": [1, 2]}))
    assert pq.read_table(path).column("x").to_pylist() == [1, 2]


def test_failure_keeps_the_previous_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "result.json"
    write_json(path, {"old": 1})
    with pytest.raises(RuntimeError), atomic_path(path) as temporary:
        temporary.write_text("half")
        raise RuntimeError("killed")
    assert json.loads(path.read_text()) == {"old": 1}
    assert [item.name for item in tmp_path.iterdir()] == ["result.json"]


def test_directory_output_is_replaced_whole(tmp_path):
    path = tmp_path / "adapter"
    path.mkdir()
    (path / "stale.bin").write_text("old")
    with atomic_path(path) as temporary:
        temporary.mkdir()
        (temporary / "adapter_model.safetensors").write_text("new")
    assert sorted(item.name for item in path.iterdir()) == ["adapter_model.safetensors"]


def test_a_report_is_written_whole_and_its_headline_in_the_given_order(tmp_path):
    report = {"b/loss": 0.5, "a/accuracy": 0.25, "c/runtime_s": 12.0}
    headline = write_metrics(
        tmp_path / "metrics.json", tmp_path / "report.json", report, ["a/accuracy", "b/loss", "x"]
    )
    assert headline == {"a/accuracy": 0.25, "b/loss": 0.5}  # keys it lacks are left out
    assert list(json.loads((tmp_path / "metrics.json").read_text())) == ["a/accuracy", "b/loss"]
    assert json.loads((tmp_path / "report.json").read_text()) == report
    assert list(json.loads((tmp_path / "report.json").read_text())) == sorted(report)
