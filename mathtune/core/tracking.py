"""Experiment tracking in Weights & Biases, mirroring the DVC metrics files.

The metrics JSON under `metrics/` is the record of truth; W&B gets the same numbers plus
curves. `offline` (the default) writes runs under `wandb/` for a later `wandb sync` and
never touches the network; `disabled` returns a run object that does nothing, so stages
call the same methods either way.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

import wandb

from mathtune.core.distributed import is_main
from mathtune.core.params import Params, params_as_dict

logger = logging.getLogger(__name__)


class TrackingRun(Protocol):
    def log(self, metrics: dict[str, float], step: int | None = None) -> None: ...

    def summarize(self, metrics: dict[str, Any]) -> None: ...

    def log_table(self, key: str, columns: list[str], rows: list[list[Any]]) -> None: ...

    def finish(self) -> None: ...


class WandbRun:
    """A live (online or offline) W&B run."""

    def __init__(self, run: Any) -> None:
        self._run = run

    def log(self, metrics: dict[str, float], step: int | None = None) -> None:
        self._run.log(metrics, step=step)

    def summarize(self, metrics: dict[str, Any]) -> None:
        self._run.summary.update(metrics)

    def log_table(self, key: str, columns: list[str], rows: list[list[Any]]) -> None:
        self._run.log({key: wandb.Table(columns=columns, data=rows)})

    def finish(self) -> None:
        self._run.finish()


class DisabledRun:
    """Stands in for a run when `wandb.mode` is `disabled`: every call does nothing."""

    def log(self, metrics: dict[str, float], step: int | None = None) -> None:
        pass

    def summarize(self, metrics: dict[str, Any]) -> None:
        pass

    def log_table(self, key: str, columns: list[str], rows: list[list[Any]]) -> None:
        pass

    def finish(self) -> None:
        pass


def start_run(params: Params, job_type: str) -> TrackingRun:
    """Start the W&B run of one stage, with every param as its config.

    Runs are grouped by `wandb.run_name`, or by the name of the model trained when it is null,
    so runs of different models never share a label. Under several processes rank 0 alone
    keeps the run; the others get a DisabledRun.
    """
    if params.wandb.mode == "disabled" or not is_main():
        return DisabledRun()
    group = params.wandb.run_name or params.model.name
    run = wandb.init(
        project=params.wandb.project,
        name=f"{group}-{job_type}",
        group=group,
        job_type=job_type,
        config=params_as_dict(params),
        mode=params.wandb.mode,
        # Explicit: wandb otherwise keeps the first run's directory for the whole process.
        dir=Path.cwd(),
    )
    logger.info("W&B %s run %s in %s", params.wandb.mode, run.id, run.dir)
    return WandbRun(run)
