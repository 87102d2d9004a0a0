import doctest
from collections import Counter

import mathtune.data.metrics
from mathtune.data.metrics import prepare_counts, prepare_stats
from mathtune.data.splits import ALL_DROP_REASONS, SplitReport


def test_doctests_pass():
    assert doctest.testmod(mathtune.data.metrics).failed == 0


def report() -> SplitReport:
    result = SplitReport(rows_read=9, problem_chars=[10, 20, 30, 40], target_chars=[5] * 4)
    result.rows |= {"train": 3, "validation": 1, "heldout": 2}
    result.dropped |= {"missing_answer": 2, "contaminated_heldout": 1}
    result.families["heldout"] = Counter({"lcm": 2})
    return result


def test_metrics_are_flat_counts_with_every_drop_reason_and_no_statistics():
    metrics = prepare_counts(report())
    assert all(isinstance(value, int) for value in metrics.values())
    assert {f"prepare/dropped/{reason}" for reason in ALL_DROP_REASONS} <= set(metrics)
    assert metrics["prepare/dropped/total"] == 3
    assert metrics["prepare/rows/read"] == 9 and metrics["prepare/rows/kept"] == 6
    assert metrics["prepare/rows/heldout"] == 2
    assert not [key for key in metrics if "chars" in key]


def test_statistics_hold_lengths_and_families():
    stats = prepare_stats(report())
    assert stats["problem_chars"] == {"mean": 25.0, "p50": 20, "p95": 40, "max": 40}
    assert stats["target_chars"]["p50"] == 5
    assert stats["families"]["heldout"] == {"lcm": 2}
    assert prepare_stats(SplitReport())["problem_chars"]["max"] == 0
