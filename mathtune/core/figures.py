"""PNG figures of the pipeline's curves and accuracies, for reading offline.

DVC's HTML plots (`dvc plots show`) draw CSV plots with vega loaded from a CDN, so they stay
blank without network; images declared as DVC plots are embedded as they are. Each stage
therefore also writes its key figures as PNG (matplotlib, Agg backend, no display needed):

- `write_curve_png`: a CSV of `step` plus one column per series (loss curve; GRPO reward per
  reward function), one line per column, empty cells skipped.
- `write_accuracy_png`: accuracy per model, overall and per set (seen vs held-out families,
  probe problems), with standard errors; per experiment too (reports/experiments.png).
- `write_family_png`: accuracy per model and problem family.

The bytes depend only on the data: matplotlib's version and creation date stay out of the
file, so an unchanged figure keeps its DVC hash.
"""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: stages run headless

import matplotlib.pyplot as plt  # noqa: E402

from mathtune.core.io import atomic_path  # noqa: E402

DPI = 100
# PNG text chunks matplotlib writes by default: "Software" names its version.
PNG_METADATA = {"Software": None}


def write_curve_png(csv_path: str | Path, png_path: str | Path, title: str, y_label: str) -> None:
    """Plot every column of a `step, ...` CSV against step, one line each."""
    with Path(csv_path).open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    series = [name for name in (rows[0] if rows else {}) if name != "step"]
    figure, axes = plt.subplots(figsize=(7, 4))
    for name in series:
        points = [(float(row["step"]), float(row[name])) for row in rows if row[name] != ""]
        steps, values = zip(*points, strict=True) if points else ((), ())
        axes.plot(steps, values, marker="o" if len(points) < 20 else None, label=name)
    axes.set(title=title, xlabel="step", ylabel=y_label)
    axes.grid(alpha=0.3)
    if series:
        axes.legend()
    _save(figure, png_path)


def write_accuracy_png(
    path: str | Path,
    accuracy: dict[str, dict[str, float]],
    errors: dict[str, dict[str, float]],
    title: str = "Accuracy per model (whiskers: one standard error)",
) -> None:
    """Grouped bars: for each group (overall, seen, heldout, ...), one bar per model (or per
    experiment), with whiskers of one standard error either side.

    `accuracy[model][group]` is a rate in [0, 1], `errors[model][group]` its standard error.
    """
    models = list(accuracy)
    groups = list(dict.fromkeys(group for values in accuracy.values() for group in values))
    figure, axes = plt.subplots(figsize=(max(6, 1.6 * len(groups) * max(1, len(models)) / 2), 4))
    width = 0.8 / max(1, len(models))
    for number, model in enumerate(models):
        offsets = [index + (number - (len(models) - 1) / 2) * width for index in range(len(groups))]
        values = [accuracy[model].get(group, 0.0) for group in groups]
        spread = [errors[model].get(group, 0.0) for group in groups]
        bars = axes.bar(offsets, values, width, yerr=spread, capsize=3, label=model)
        axes.bar_label(bars, labels=[f"{value:.0%}" for value in values], fontsize=8, padding=2)
    axes.set_xticks(range(len(groups)), groups)
    axes.set(
        title=title,
        ylabel="accuracy (greedy)",
        ylim=(0, 1.1),
    )
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1))  # outside: bars reach 100%
    _save(figure, path)


def write_family_png(path: str | Path, accuracy: dict[str, dict[str, float]]) -> None:
    """Horizontal grouped bars: accuracy per family (`accuracy[model][family]`), per model."""
    models = list(accuracy)
    families = list(dict.fromkeys(family for values in accuracy.values() for family in values))
    height = 0.8 / max(1, len(models))
    figure, axes = plt.subplots(figsize=(8, max(3, 0.25 * len(families) * len(models) + 1.5)))
    for number, model in enumerate(models):
        offsets = [index + number * height for index in range(len(families))]
        values = [accuracy[model].get(family, 0.0) for family in families]
        axes.barh(offsets, values, height, label=model)
    axes.set_yticks([i + height * (len(models) - 1) / 2 for i in range(len(families))], families)
    axes.invert_yaxis()  # first family on top
    axes.set(title="Accuracy per problem family", xlabel="accuracy (greedy)", xlim=(0, 1))
    axes.grid(axis="x", alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1))  # outside: bars reach 100%
    _save(figure, path)


def _save(figure: plt.Figure, path: str | Path) -> None:
    figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=DPI, metadata=PNG_METADATA)
    plt.close(figure)
