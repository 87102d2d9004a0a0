"""W&B tracking with the real wandb library in offline mode (no network, no key)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import changed, model_params
from mathtune.core.params import Params, WandbParams, load_params
from mathtune.core.tracking import DisabledRun, start_run

REPO = Path(__file__).resolve().parents[2]


def _params(run_name: str | None, mode: str = "offline", **model_changes) -> Params:
    params = load_params(REPO / "params.yaml")
    wandb = WandbParams(mode=mode, project="openr1-math-finetuning", run_name=run_name)
    return changed(params, wandb=wandb, model=model_params(**model_changes))


def _offline_record(directory: Path, expected: list[bytes]) -> bytes:
    """The offline run's record once it holds every `expected` string (10 s at most).

    wandb 0.31 keeps an offline run as one protobuf log (synced later by `wandb sync`), whose
    strings are stored as they are. Its service process may write the last records just
    after `finish()` returns, so the file is read until they are there.
    """
    run_dirs = list((directory / "wandb").glob("offline-run-*"))
    assert len(run_dirs) == 1
    (record_file,) = run_dirs[0].glob("*.wandb")
    deadline = time.monotonic() + 10
    record = record_file.read_bytes()
    while not all(item in record for item in expected) and time.monotonic() < deadline:
        time.sleep(0.05)
        record = record_file.read_bytes()
    return record


def test_offline_run_writes_config_and_metrics_locally(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    run = start_run(_params("test-run"), job_type="train")
    run.log({"train/loss": 1.25}, step=1)
    run.summarize({"eval/accuracy": 0.75})
    run.log_table("eval/predictions", ["problem", "correct"], [["1+1", True]])
    run.finish()
    expected = [b'"lr"', b"train/loss", b"1.25", b"eval/accuracy", b"test-run-train"]
    record = _offline_record(tmp_path, expected)
    for item in expected:
        assert item in record


@pytest.mark.parametrize(
    ("model_changes", "expected"),
    [
        ({"source": "embedded"}, b"SmolLM2-135M-Instruct-evaluate"),
        ({"source": "hub", "hub_id": "Qwen/Qwen2.5-0.5B"}, b"Qwen2.5-0.5B-evaluate"),
    ],
)
def test_run_is_named_after_the_model_trained_when_no_name_is_set(
    tmp_path, monkeypatch, model_changes, expected
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    start_run(_params(None, **model_changes), job_type="evaluate").finish()
    record = _offline_record(tmp_path, [expected])
    assert expected in record
    assert b"qwen-0.5B" not in record


def test_disabled_mode_returns_a_run_that_does_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = start_run(_params("r", mode="disabled"), job_type="train")
    assert isinstance(run, DisabledRun)
    run.log({"train/loss": 1.0})
    run.finish()
    assert not (tmp_path / "wandb").exists()
