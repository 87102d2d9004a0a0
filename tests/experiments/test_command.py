"""`mathtune experiments` on a real DVC repository: a queued sweep run by `dvc queue start`,
then the table and the report from DVC's records."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import copy_project, run_command

pytestmark = pytest.mark.slow
SWEEP = "evaluate.max_new_tokens=8,10,0"  # 0: refused by params, the others still run


def mathtune(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "mathtune", *arguments]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True)


def wait_for_the_queue(project: Path, timeout_s: float = 600) -> str:
    """`dvc queue status` once no experiment is queued or running any more."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = run_command(["dvc", "queue", "status"], project)
        if "Queued" not in status and "Running" not in status:
            return status
        time.sleep(3)
    raise AssertionError(f"the queue did not finish in {timeout_s} s:\n{status}")


@pytest.fixture(scope="module")
def swept(tiny_project, tmp_path_factory) -> Path:
    """A copy of the tiny project after a queued sweep of three values ran."""
    project = copy_project(tiny_project, tmp_path_factory.mktemp("sweep") / "project")
    run_command(["dvc", "exp", "run", "--queue", "-S", SWEEP], project)
    run_command(["dvc", "queue", "start"], project)
    wait_for_the_queue(project)
    return project


def experiments_by_tokens(project: Path) -> dict[int, dict]:
    rows = json.loads(run_command(["dvc", "exp", "show", "--json"], project))
    found = {}
    for row in rows:
        for experiment in row.get("experiments") or []:
            (revision,) = experiment["revs"]
            params = revision["data"]["params"]["params.yaml"]["data"]
            found[params["evaluate"]["max_new_tokens"]] = experiment | {"revision": revision}
    return found


def test_a_queued_sweep_runs_each_value_and_records_params_and_headline(swept):
    experiments = experiments_by_tokens(swept)
    assert set(experiments) == {8, 10, 0}
    for tokens in (8, 10):
        data = experiments[tokens]["revision"]["data"]
        headline = data["metrics"]["metrics/eval.json"]["data"]
        assert list(headline)[:3] == [
            f"eval/base/{s}/accuracy" for s in ("seen", "heldout", "probe")
        ]
        assert len(headline) + 3 <= 16  # with train's two losses and grpo's last reward
        assert experiments[tokens]["executor"]["state"] == "success"


def test_a_value_params_refuse_fails_its_experiment_with_the_one_line_error(swept):
    failed = experiments_by_tokens(swept)[0]
    assert failed["executor"]["state"] == "failed"
    log = Path(failed["executor"]["local"]["log"]).read_text()
    assert "evaluate failed: params.yaml: evaluate.max_new_tokens = 0 is not allowed" in log


def test_queued_runs_rerun_only_the_stages_their_params_change(swept):
    log = Path(experiments_by_tokens(swept)[8]["executor"]["local"]["log"]).read_text()
    for stage in ("prepare", "train", "grpo"):
        assert f"Stage '{stage}' didn't change, skipping" in log
    assert "Running stage 'evaluate'" in log


def test_the_table_lists_the_sweep_with_the_changed_param_only(swept):
    result = mathtune("experiments", "table", cwd=swept)
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split()[:3] == ["experiment", "state", "evaluate.max_new_tokens"]
    assert "train.lr" not in header and "sft heldout" in header
    assert len(rows) == 4 and sum("Failed" in row for row in rows) == 1  # main + 3 experiments


def test_the_report_renders_every_experiment_with_errors_and_a_figure(swept):
    result = mathtune("experiments", "report", "--out", "reports/experiments.md", cwd=swept)
    assert result.returncode == 0, result.stderr
    text = (swept / "reports/experiments.md").read_text()
    for name in [e["name"] for e in experiments_by_tokens(swept).values()]:
        assert f"| {name} |" in text
    assert "`evaluate.max_new_tokens=8`" in text and " ± " in text
    assert (swept / "reports/experiments.png").read_bytes().startswith(b"\x89PNG")


def test_without_experiments_the_report_says_so_and_fails(tiny_project, tmp_path):
    project = copy_project(tiny_project, tmp_path / "project")
    result = mathtune("experiments", "report", cwd=project)
    assert result.returncode == 2
    assert "experiments failed: no experiments recorded yet" in result.stderr
    assert not (project / "reports/experiments.md").exists()
