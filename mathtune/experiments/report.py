"""reports/experiments.md and its figure, written from DVC's records of the experiments.

The Markdown table holds every experiment with the params it changed, what it tries (from
its definition in experiments.yaml, when it has one), and its headline metrics, each
accuracy with its standard error (`31.2% ± 6.7`); the PNG draws the final model's accuracy
on seen, held-out and probe problems per experiment, with one standard error either side.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from mathtune.core.figures import write_accuracy_png
from mathtune.core.io import atomic_path
from mathtune.experiments.records import Experiment, changed_params
from mathtune.experiments.table import (
    ACCURACY,
    column_title,
    format_value,
    metric_columns,
    sort_by_heldout,
)

FIGURE_SETS = ("seen", "heldout", "probe")


def render_report(
    experiments: list[Experiment], why: dict[str, str], figure_name: str, today: datetime.date
) -> str:
    """The Markdown report: how it was made, the table, the figure."""
    params = changed_params(experiments)
    metrics = [key for key in metric_columns(experiments) if not key.endswith("_stderr")]
    header = ["experiment", "state", "changed params", "what it tries"]
    header += [column_title(key) for key in metrics]
    lines = [
        "# Experiments",
        "",
        f"Written on {today.isoformat()} by `python -m mathtune experiments report` from DVC's "
        "records (`dvc exp show`; standard errors from each experiment's `reports/eval.json`). "
        "Best held-out accuracy of the final model first; `±` is one standard error, so "
        "differences within about twice it are noise. Rerun an experiment with its command "
        "in `experiments.yaml`.",
        "",
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
    ]
    for experiment in sort_by_heldout(experiments):
        changes = ", ".join(
            f"`{key}={format_value(key, experiment.params.get(key))}`" for key in params
        )
        cells = [experiment.name, experiment.state or "commit", changes or "-"]
        cells += [why.get(experiment.name, "")]
        cells += [_with_error(experiment, key) for key in metrics]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"![accuracy per experiment]({figure_name})", ""]
    return "\n".join(lines)


def write_report(
    experiments: list[Experiment], why: dict[str, str], path: Path, today: datetime.date
) -> Path:
    """Write the Markdown report at `path` and its figure beside it; return the figure."""
    figure = path.with_suffix(".png")
    shown = [e for e in sort_by_heldout(experiments) if e.final_model()]
    write_accuracy_png(
        figure,
        {e.name: {s: e.final_accuracy(s) or 0.0 for s in FIGURE_SETS} for e in shown},
        {e.name: {s: e.errors.get(_key(e, s), 0.0) for s in FIGURE_SETS} for e in shown},
        title="Final model's accuracy per experiment (whiskers: one standard error)",
    )
    with atomic_path(path) as temporary:
        temporary.write_text(render_report(experiments, why, figure.name, today))
    return figure


def _with_error(experiment: Experiment, key: str) -> str:
    value = format_value(key, experiment.metrics.get(key))
    error = experiment.errors.get(key)
    if key.endswith(ACCURACY) and error is not None and value != "-":
        return f"{value} ± {100 * error:.1f}"
    return value


def _key(experiment: Experiment, split: str) -> str:
    return f"eval/{experiment.final_model()}/{split}/accuracy"
