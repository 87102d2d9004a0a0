"""Sharing what the pipeline made: a DVC remote, experiments pushed to a git remote, and the
model registry (artifacts tagged with versions), all with real DVC and git in temporary repos
(remotes as local directories)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import copy_project, run_command

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shared(tiny_project, tmp_path_factory) -> dict[str, Path]:
    """The tiny project with a DVC remote (a local directory, every output pushed) and a
    bare git remote (main pushed), as a team's repository would be."""
    root = tmp_path_factory.mktemp("sharing")
    project = copy_project(tiny_project, root / "project")
    storage, origin = root / "dvc-storage", root / "origin.git"
    run_command(["dvc", "remote", "add", "-d", "storage", str(storage)], project)
    run_command(["git", "commit", "-qam", "a DVC remote"], project)
    run_command(["dvc", "push"], project)
    run_command(["git", "init", "-q", "--bare", "-b", "main", str(origin)], root)
    run_command(["git", "remote", "add", "origin", str(origin)], project)
    run_command(["git", "push", "-q", "origin", "main"], project)
    return {"project": project, "storage": storage, "origin": origin, "root": root}


def test_a_fresh_clone_pulls_every_output_and_reruns_nothing(shared):
    clone = shared["root"] / "clone"
    run_command(["git", "clone", "-q", str(shared["origin"]), str(clone)], shared["root"])
    assert not (clone / "models/adapter").exists()
    run_command(["dvc", "pull"], clone)
    for name in ("adapter_model.safetensors", "adapter_config.json"):
        pulled = (clone / "models/grpo_adapter" / name).read_bytes()
        assert pulled == (shared["project"] / "models/grpo_adapter" / name).read_bytes()
    assert "Data and pipelines are up to date" in run_command(["dvc", "status"], clone)
    output = run_command(["dvc", "repro"], clone)
    assert "Data and pipelines are up to date" in output and "Running stage" not in output


def test_an_experiment_pushed_to_the_git_remote_is_pulled_into_another_clone(shared):
    project = shared["project"]
    run_command(["dvc", "exp", "run", "--temp", "-n", "short-answers", "-S",
                 "evaluate.max_new_tokens=6"], project)  # fmt: skip
    run_command(["dvc", "exp", "push", "origin", "short-answers"], project)
    clone = shared["root"] / "colleague"
    run_command(["git", "clone", "-q", str(shared["origin"]), str(clone)], shared["root"])
    run_command(["dvc", "exp", "pull", "origin", "short-answers"], clone)
    rows = json.loads(run_command(["dvc", "exp", "show", "--json"], clone))
    (experiment,) = [e for row in rows for e in (row.get("experiments") or [])
                     if e["name"] == "short-answers"]  # fmt: skip
    data = experiment["revs"][0]["data"]
    assert data["params"]["params.yaml"]["data"]["evaluate"]["max_new_tokens"] == 6
    assert "eval/sft/heldout/accuracy" in data["metrics"]["metrics/eval.json"]["data"]
    run_command(["dvc", "exp", "apply", "short-answers"], clone)
    run_command(["dvc", "checkout"], clone)  # its outputs, from the pulled cache
    assert (clone / "data/eval/predictions.parquet").is_file()


def test_a_tagged_adapter_version_is_fetched_with_dvc_artifacts_get(shared):
    project = shared["project"]
    run_command(["git", "tag", "-a", "sft-adapter@v0.1.0", "-m", "first SFT adapter"], project)
    target = shared["root"] / "fetched"
    run_command(["dvc", "artifacts", "get", str(project), "sft-adapter", "--rev", "v0.1.0",
                 "-o", str(target)], shared["root"])  # fmt: skip
    for name in ("adapter_model.safetensors", "adapter_config.json"):
        assert (target / name).read_bytes() == (project / "models/adapter" / name).read_bytes()


def test_a_missing_remote_gives_dvcs_message(shared, tmp_path):
    clone = tmp_path / "clone"
    run_command(["git", "clone", "-q", str(shared["origin"]), str(clone)], tmp_path)
    run_command(["dvc", "remote", "modify", "storage", "url", str(tmp_path / "gone")], clone)
    with pytest.raises(AssertionError, match="failed to pull|missing"):
        run_command(["dvc", "pull"], clone)
