"""The experiments as one readable table: only the params that differ, the headline metrics,
the best held-out accuracy first.

    experiment   state     train.lr  grpo held-out  grpo probe  grpo seen  ...  eval/loss
    lr-3e-3      Success   0.003     2.1%           31.2%       41.7%      ...  0.0921
    main         -         0.002     0.0%           35.4%       39.6%      ...  0.0883

Accuracies print as percentages, losses and rewards as they are; a cell is `-` where an
experiment has no such number (queued, failed, or RL turned off).
"""

from __future__ import annotations

import json
from typing import Any

from mathtune.experiments.records import Experiment, changed_params

ACCURACY = "/accuracy"


def sort_by_heldout(experiments: list[Experiment]) -> list[Experiment]:
    """Best held-out accuracy of the final model first; experiments without one last."""
    return sorted(
        experiments,
        key=lambda e: (e.final_accuracy("heldout") is None, -(e.final_accuracy("heldout") or 0)),
    )


def metric_columns(experiments: list[Experiment]) -> list[str]:
    """Every headline metric any experiment has, in DVC's column order."""
    return list(dict.fromkeys(key for experiment in experiments for key in experiment.metrics))


def column_title(key: str) -> str:
    """A short title for a metric key.

    >>> column_title("eval/sft/heldout/accuracy"), column_title("eval/grpo/accuracy_stderr")
    ('sft heldout', 'grpo ± se')
    >>> column_title("eval/base/accuracy"), column_title("grpo/reward/total/last_mean")
    ('base overall', 'grpo/reward/total/last_mean')
    """
    parts = key.split("/")
    if parts[0] != "eval" or len(parts) < 3:
        return key
    if parts[-1] == "accuracy_stderr":
        return f"{parts[1]} ± se"
    if parts[-1] == "accuracy":
        return f"{parts[1]} {parts[2] if len(parts) == 4 else 'overall'}"
    return key


def format_value(key: str, value: Any) -> str:
    """Accuracies (and their errors) as percentages, anything else as params.yaml writes it.

    >>> format_value("eval/sft/probe/accuracy", 0.3125), format_value("grpo.enabled", False)
    ('31.2%', 'false')
    """
    if value is None:
        return "-"
    if key.endswith(ACCURACY) or key.endswith(ACCURACY + "_stderr"):
        return f"{100 * value:.1f}%"
    if isinstance(value, float):
        return f"{value:.4g}"
    return json.dumps(value) if isinstance(value, bool | list | dict) else str(value)


def table_rows(experiments: list[Experiment]) -> tuple[list[str], list[list[str]]]:
    """Header and rows: experiment, state, each changed param, each headline metric."""
    params = changed_params(experiments)
    metrics = metric_columns(experiments)
    header = ["experiment", "state", *params, *(column_title(key) for key in metrics)]
    rows = [
        [
            experiment.name,
            experiment.state or "-",
            *(format_value(key, experiment.params.get(key)) for key in params),
            *(format_value(key, experiment.metrics.get(key)) for key in metrics),
        ]
        for experiment in sort_by_heldout(experiments)
    ]
    return header, rows


def render_table(header: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
             for row in [header, *rows]]  # fmt: skip
    return "\n".join(line.rstrip() for line in lines)
