"""`mathtune experiments table|report|queue`: the experiments DVC recorded, for people.

mathtune experiments table                 # changed params + headline metrics, best held-out first
mathtune experiments report                # reports/experiments.md and reports/experiments.png
mathtune experiments queue [NAME ...] [--start]   # queue experiments.yaml's commands
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
from pathlib import Path

from mathtune.experiments.definitions import (
    DEFINITIONS_FILE,
    queue_definitions,
    read_definitions,
    select,
)
from mathtune.experiments.records import Experiment, ExperimentsError, read_experiments
from mathtune.experiments.report import write_report
from mathtune.experiments.table import render_table, table_rows

REPORT = Path("reports/experiments.md")


def add_experiments_command(commands: argparse._SubParsersAction) -> None:
    """The `experiments` command and its three actions."""
    parser = commands.add_parser("experiments", help="compare and queue DVC experiments")
    actions = parser.add_subparsers(dest="action", required=True)
    for name, what in [("table", "print the experiments"), ("report", "write the report")]:
        action = actions.add_parser(name, help=what)
        action.add_argument(
            "--commits", type=int, default=1, help="experiments of the last N commits (default 1)"
        )
    actions.choices["report"].add_argument("--out", type=Path, default=REPORT, help="Markdown")
    queue = actions.add_parser("queue", help=f"queue the commands of {DEFINITIONS_FILE}")
    queue.add_argument("names", nargs="*", help="experiments to queue (default: all)")
    queue.add_argument("--start", action="store_true", help="then `dvc queue start`")
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> None:
    """Called by `mathtune.__main__`, which turns a MathtuneError into one line and exit 2."""
    repo = Path.cwd()
    if arguments.action == "queue":
        queue(repo, arguments.names, arguments.start)
        return
    experiments = recorded_experiments(repo, arguments.commits)
    if arguments.action == "table":
        print(render_table(*table_rows(experiments)))
        return
    why = {d.name: d.why for d in read_definitions(repo / DEFINITIONS_FILE)}
    figure = write_report(experiments, why, arguments.out, datetime.date.today())
    print(f"wrote {arguments.out} and {figure} ({len(experiments)} rows)")


def recorded_experiments(repo: Path, commits: int) -> list[Experiment]:
    """DVC's experiments, refused when there are none beyond the commits themselves."""
    experiments = read_experiments(repo, commits)
    if all(experiment.is_baseline for experiment in experiments):
        raise ExperimentsError(
            "no experiments recorded yet (only commits). Fix: `dvc exp run -S train.lr=1e-3`, "
            "or `python -m mathtune experiments queue --start` for the settings in "
            f"{DEFINITIONS_FILE}; `dvc metrics show` shows the commit's own figures."
        )
    return experiments


def queue(repo: Path, names: list[str], start: bool) -> None:
    definitions = select(read_definitions(repo / DEFINITIONS_FILE), names)
    for name in queue_definitions(definitions, repo):
        print(f"queued {name}")
    if start:
        subprocess.run(["dvc", "queue", "start"], cwd=repo, check=True)
        print("started: `dvc queue status` follows them, `make exps` compares them")
