"""The experiments DVC recorded, read back from its own records for tables and reports.

`dvc.api.exp_show` gives one flat row per baseline commit and experiment: its name, state,
every param of params.yaml (`train.lr`) and every declared metric (`eval/sft/heldout/accuracy`).
Each finished experiment is a git commit, so the report of the evaluate stage at that commit
(`reports/eval.json`, kept in git) gives the standard errors of its accuracies:

    Experiment(name="lr-1e-3", rev="f5fc585", state="Success",
               params={"train.lr": 0.001, ...}, metrics={"eval/sft/heldout/accuracy": 0.0, ...},
               errors={"eval/sft/heldout/accuracy": 0.0, ...})
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mathtune.core.errors import MathtuneError

EVAL_REPORT = "reports/eval.json"
# Columns every row of dvc.api.exp_show has besides params, metrics and dependency hashes.
DVC_COLUMNS = ("Experiment", "rev", "typ", "Created", "parent", "State", "Executor")
STDERR = "_stderr"  # the report's suffix of a standard error (mathtune.eval.metrics.STDERR)
WORKSPACE = "workspace"
# The tuned models, latest first: the first one evaluated is what an experiment produced.
FINAL_MODELS = ("grpo", "sft")


class ExperimentsError(MathtuneError):
    """DVC has no experiments to show, or cannot be read; the message says the fix."""


@dataclass(frozen=True)
class Experiment:
    """One row of `dvc exp show`: a baseline commit or an experiment based on it."""

    name: str
    rev: str
    state: str | None  # Success, Queued, Running, Failed; None for a baseline commit
    params: dict[str, Any]
    metrics: dict[str, float]
    errors: dict[str, float] = field(default_factory=dict)  # standard error per accuracy key

    @property
    def is_baseline(self) -> bool:
        return self.state is None

    def final_model(self) -> str | None:
        """The last model this experiment evaluated: grpo, or sft when RL was off."""
        return next((m for m in FINAL_MODELS if f"eval/{m}/heldout/accuracy" in self.metrics), None)

    def final_accuracy(self, split: str) -> float | None:
        model = self.final_model()
        return self.metrics.get(f"eval/{model}/{split}/accuracy") if model else None


def read_experiments(repo: Path, commits: int = 1) -> list[Experiment]:
    """Experiments of the last `commits` commits of HEAD and their baselines, workspace left
    out where it repeats HEAD; standard errors read from each one's evaluation report."""
    import dvc.api  # imported here: a second or two, and only these commands need it

    param_keys = set(_flatten(yaml.safe_load((repo / "params.yaml").read_text())))
    try:
        rows = dvc.api.exp_show(repo=str(repo), num=commits)
    except Exception as err:  # DVC raises its own errors for a repo it cannot read
        raise ExperimentsError(
            f"dvc exp show failed in {repo}: {err}. Fix: run this in the repository, after "
            "`dvc repro` or `dvc exp run`."
        ) from err
    metric_keys = _metric_keys(rows, param_keys)
    experiments = [_experiment(repo, row, param_keys, metric_keys) for row in rows]
    return _without_idle_workspace(experiments)


def changed_params(experiments: list[Experiment]) -> list[str]:
    """The params whose value differs between the experiments shown, in params.yaml order."""
    keys = list(dict.fromkeys(key for experiment in experiments for key in experiment.params))
    return [
        key
        for key in keys
        if len({json.dumps(e.params.get(key), sort_keys=True) for e in experiments}) > 1
    ]


def _experiment(
    repo: Path, row: dict[str, Any], param_keys: set[str], metric_keys: list[str]
) -> Experiment:
    rev = str(row.get("rev") or "")
    name = row.get("Experiment") or rev
    metrics = {key: row[key] for key in metric_keys if _is_number(row.get(key))}
    state = row.get("State") if row.get("typ") != "baseline" else None
    return Experiment(
        name=str(name),
        rev=rev,
        state=state,
        params={key: row[key] for key in row if key in param_keys},
        metrics=metrics,
        errors=_standard_errors(repo, rev) if metrics else {},
    )


def _metric_keys(rows: list[dict[str, Any]], param_keys: set[str]) -> list[str]:
    """The metric columns, in DVC's order (dvc.yaml's): numbers that are no param, where
    the other columns left are dependency hashes (strings)."""
    keys = dict.fromkeys(key for row in rows for key in row)
    return [
        key
        for key in keys
        if key not in param_keys
        and key not in DVC_COLUMNS
        and any(_is_number(row.get(key)) for row in rows)
    ]


def _standard_errors(repo: Path, rev: str) -> dict[str, float]:
    """accuracy key -> its standard error, from the evaluate report at `rev`."""
    if rev == WORKSPACE:
        path = repo / EVAL_REPORT
        text = path.read_text() if path.is_file() else "{}"
    else:
        shown = subprocess.run(
            ["git", "show", f"{rev}:{EVAL_REPORT}"], cwd=repo, capture_output=True, text=True
        )
        text = shown.stdout if shown.returncode == 0 else "{}"
    report = json.loads(text)
    return {
        key.removesuffix(STDERR): value for key, value in report.items() if key.endswith(STDERR)
    }


def _without_idle_workspace(experiments: list[Experiment]) -> list[Experiment]:
    """Drop the workspace row when it equals the commit it is on (nothing run since)."""
    if len(experiments) < 2 or experiments[0].rev != WORKSPACE:
        return experiments
    workspace, head = experiments[0], experiments[1]
    same = workspace.params == head.params and workspace.metrics == head.metrics
    return experiments[1:] if same else experiments


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested params as DVC names them: `train.lora.r`.

    >>> _flatten({"train": {"lr": 0.002, "lora": {"r": 16}}})
    {'train.lr': 0.002, 'train.lora.r': 16}
    """
    if not isinstance(data, dict):
        return {prefix: data}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        flat |= _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    return flat


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
