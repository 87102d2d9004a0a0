"""The numbers prepare reports: counts worth comparing, and descriptive statistics.

Counts (`reports/prepare.json`, versioned in git) are what a change of params or data moves
on purpose: rows read, kept per split, dropped per reason. Statistics
(`data/prepared/stats.json`) describe the data, such as length percentiles and rows per
family. Neither is a DVC metric: the experiment table keeps to the accuracies and losses.

    >>> from mathtune.data.splits import SplitReport
    >>> prepare_counts(SplitReport(rows_read=3))["prepare/rows/read"]
    3
"""

from __future__ import annotations

import math

from mathtune.data.splits import SplitReport


def prepare_counts(report: SplitReport) -> dict[str, int]:
    """Flat, namespaced counts for reports/prepare.json."""
    metrics = {
        "prepare/rows/read": report.rows_read,
        "prepare/rows/kept": report.kept,
        "prepare/rows/ungradable_train": report.ungradable_train,
        "prepare/rows/validation_overlap_kept": report.validation_overlap_kept,
        "prepare/dropped/total": sum(report.dropped.values()),
    }
    metrics |= {f"prepare/rows/{name}": n for name, n in report.rows.items()}
    metrics |= {f"prepare/dropped/{reason}": n for reason, n in report.dropped.items()}
    return metrics


def prepare_stats(report: SplitReport) -> dict[str, object]:
    """Length statistics of every kept row, and rows per family in each split."""
    return {
        "problem_chars": _length_stats(report.problem_chars),
        "target_chars": _length_stats(report.target_chars),
        "families": {
            split: dict(sorted(counts.items())) for split, counts in report.families.items()
        },
    }


def _length_stats(lengths: list[int]) -> dict[str, float]:
    """Mean, nearest-rank median and 95th percentile, and maximum (zeros when empty).

    >>> _length_stats([1, 2, 3, 10])
    {'mean': 4.0, 'p50': 2, 'p95': 10, 'max': 10}
    """
    ordered = sorted(lengths) or [0]

    def rank(q: float) -> int:
        return ordered[max(math.ceil(q * len(ordered)) - 1, 0)]

    return {
        "mean": round(sum(ordered) / len(ordered), 1),
        "p50": rank(0.5),
        "p95": rank(0.95),
        "max": ordered[-1],
    }
