"""Checkpoints: resume only from a complete checkpoint of the same params, data and code."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import changed
from mathtune.core.params import LoraParams
from mathtune.training.checkpoints import (
    FINGERPRINT_FILE,
    compute_fingerprint,
    prepare_checkpoint_dir,
)

PACKAGE = Path(__file__).resolve().parents[2] / "mathtune"
FINGERPRINT = {"params": "a", "data": {"train.parquet": "b"}, "code": "c"}


def _make_checkpoint(directory: Path, step: int, complete: bool = True) -> Path:
    checkpoint = directory / f"checkpoint-{step}"
    checkpoint.mkdir(parents=True)
    if complete:
        (checkpoint / "trainer_state.json").write_text("{}")
    return checkpoint


def test_matching_fingerprint_resumes_from_the_newest_complete_checkpoint(tmp_path):
    prepare_checkpoint_dir(tmp_path, FINGERPRINT)
    _make_checkpoint(tmp_path, 2)
    newest_complete = _make_checkpoint(tmp_path, 10)
    _make_checkpoint(tmp_path, 12, complete=False)  # killed while saving
    assert prepare_checkpoint_dir(tmp_path, FINGERPRINT) == newest_complete


@pytest.mark.parametrize(
    "saved",
    [
        {**FINGERPRINT, "params": "other"},  # params changed
        {**FINGERPRINT, "data": {"train.parquet": "other"}},  # data changed
        {**FINGERPRINT, "code": "other"},  # a module the stage loads was edited
        None,  # no fingerprint: made by something else
    ],
)
def test_stale_checkpoints_are_discarded(tmp_path, saved, caplog):
    _make_checkpoint(tmp_path, 4)
    if saved is not None:
        (tmp_path / FINGERPRINT_FILE).write_text(json.dumps(saved))
    assert prepare_checkpoint_dir(tmp_path, FINGERPRINT) is None
    assert not (tmp_path / "checkpoint-4").exists()
    assert json.loads((tmp_path / FINGERPRINT_FILE).read_text()) == FINGERPRINT
    assert "Discarding" in caplog.text


def test_fingerprint_changes_with_params_data_and_process_count(tmp_path):
    lora = LoraParams(r=4, alpha=8, dropout=0.0, target_modules=["q_proj"])
    files = [tmp_path / "train.parquet"]
    files[0].write_bytes(b"rows")

    def fingerprint(sections=None, data=files, processes=1):
        sections = sections or {"lora": lora}
        return compute_fingerprint(
            sections, data, code="mathtune.training.checkpoints", processes=processes
        )

    base = fingerprint()
    assert fingerprint({"lora": changed(lora, r=8)}) != base
    other_data = tmp_path / "other.parquet"
    other_data.write_bytes(b"other rows")
    assert fingerprint(data=[other_data]) != base
    assert fingerprint(processes=2) != base
    assert fingerprint() == base
    assert set(base) == {"params", "processes", "data", "code"}


def test_checkpoints_of_another_process_count_are_not_resumed(tmp_path, caplog):
    files = [tmp_path / "train.parquet"]
    files[0].write_bytes(b"rows")
    lora = {"lora": LoraParams(r=4, alpha=8, dropout=0.0, target_modules=["q_proj"])}
    two = compute_fingerprint(lora, files, code="mathtune.training.checkpoints", processes=2)
    prepare_checkpoint_dir(tmp_path / "ckpt", two)
    _make_checkpoint(tmp_path / "ckpt", 20)
    one = compute_fingerprint(lora, files, code="mathtune.training.checkpoints", processes=1)
    with caplog.at_level("INFO"):
        assert prepare_checkpoint_dir(tmp_path / "ckpt", one) is None
    assert "processes" in caplog.text
    assert not (tmp_path / "ckpt" / "checkpoint-20").exists()


# Prints the code hash of mathtune.trainer after importing the named modules.
CODE_HASH_SCRIPT = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
from mathtune.training.checkpoints import hash_package_code
print(hash_package_code("mathtune.trainer"))
"""


def _code_hash(root: Path, *imported_first: str) -> str:
    command = [sys.executable, "-c", CODE_HASH_SCRIPT, *imported_first]
    result = subprocess.run(
        command, cwd=root, env={"PYTHONPATH": str(root)}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_code_hash_covers_what_the_trainer_imports_subpackages_included(tmp_path):
    package = tmp_path / "mathtune"
    (package / "extra").mkdir(parents=True)
    (package / "training").mkdir()
    shutil.copy(PACKAGE / "training" / "checkpoints.py", package / "training")
    for path in ("__init__.py", "training/__init__.py", "extra/__init__.py", "unrelated.py"):
        (package / path).write_text("")
    (package / "extra" / "rule.py").write_text("LIMIT = 1\n")
    (package / "trainer.py").write_text("from mathtune.extra import rule\n")
    first = _code_hash(tmp_path)
    # Another process that happens to have loaded more of the package gets the same hash,
    # so a run killed in one process resumes in another.
    assert _code_hash(tmp_path, "mathtune.unrelated") == first

    (package / "unrelated.py").write_text("CHANGED = True\n")
    assert _code_hash(tmp_path) == first  # code the trainer never imports does not count
    (package / "extra" / "rule.py").write_text("LIMIT = 2\n")
    assert _code_hash(tmp_path) != first  # an edit in a subpackage does
