"""Deterministic train/validation split, streamed to Parquet, and the prepare metrics.

A row without a split from its source goes to validation when SHA-256(salt + uuid), read as
a number in [0, 1), is below `validation_fraction`. The test depends on the row alone, so
adding rows to a source never moves old rows across splits, and the result is the same on
every machine and Python version (unlike the salted built-in `hash`).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from mathtune.examples import DataError, Example, ExampleCounts
from mathtune.outputs import atomic_path
from mathtune.schema import PREPARED_SCHEMA

SPLITS = ("train", "validation")
# Rows per Parquet row group: bounds the buffer (about 30 MB with 30k-character traces).
ROW_GROUP_ROWS = 1000


@dataclass
class SplitSummary:
    """Rows written per split and the character lengths of every problem and target."""

    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))
    problem_chars: list[int] = field(default_factory=list)
    target_chars: list[int] = field(default_factory=list)


def hash_fraction(uuid: str, salt: str) -> float:
    """Map `salt + uuid` to [0, 1) through SHA-256.

    >>> hash_fraction("a", "openr1-split") == hash_fraction("a", "openr1-split")
    True
    >>> 0.0 <= hash_fraction("a", "openr1-split") < 1.0
    True
    """
    digest = hashlib.sha256(f"{salt}{uuid}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_split(uuid: str, salt: str, validation_fraction: float) -> str:
    """'validation' for about `validation_fraction` of uuids, 'train' for the rest."""
    return "validation" if hash_fraction(uuid, salt) < validation_fraction else "train"


def write_splits(
    examples: Iterable[tuple[Example, str | None]],
    out_dir: str | Path,
    salt: str,
    validation_fraction: float,
) -> SplitSummary:
    """Stream examples into `out_dir`/{train,validation}.parquet, replacing `out_dir` whole.

    Raises DataError, leaving `out_dir` untouched, if either split ends up empty.
    """
    summary = SplitSummary()
    buffers: dict[str, list[Example]] = {name: [] for name in SPLITS}
    with atomic_path(out_dir) as temporary, contextlib.ExitStack() as stack:
        temporary.mkdir()
        writers = {
            name: stack.enter_context(
                pq.ParquetWriter(temporary / f"{name}.parquet", PREPARED_SCHEMA)
            )
            for name in SPLITS
        }
        for example, source_split in examples:
            name = source_split or assign_split(example.uuid, salt, validation_fraction)
            buffers[name].append(example)
            summary.rows[name] += 1
            summary.problem_chars.append(len(example.problem))
            summary.target_chars.append(len(example.target))
            if len(buffers[name]) == ROW_GROUP_ROWS:
                _flush(writers[name], buffers[name])
        for name in SPLITS:
            _flush(writers[name], buffers[name])
        _check_not_empty(summary, validation_fraction)
    return summary


def _flush(writer: pq.ParquetWriter, buffer: list[Example]) -> None:
    if buffer:
        arrays = [
            pa.array([getattr(example, name) for example in buffer], type=pa.string())
            for name in PREPARED_SCHEMA.names
        ]
        writer.write_table(pa.Table.from_arrays(arrays, schema=PREPARED_SCHEMA))
        buffer.clear()


def _check_not_empty(summary: SplitSummary, validation_fraction: float) -> None:
    for name in SPLITS:
        if summary.rows[name] == 0:
            raise DataError(
                f"The {name} split is empty after filtering ({summary.rows} rows per split, "
                f"validation_fraction {validation_fraction}). Use more rows (prepare.max_rows, "
                "prepare.synthetic.rows or a larger source) or adjust "
                "prepare.validation_fraction; the drop counts are logged above."
            )


def prepare_metrics(counts: ExampleCounts, summary: SplitSummary) -> dict[str, float]:
    """Flat, namespaced numbers for metrics/prepare.json (`dvc metrics diff` friendly)."""
    metrics: dict[str, float] = {
        "prepare/rows/read": counts.rows_read,
        "prepare/rows/after_limit": counts.kept,
        "prepare/dropped/total": sum(counts.dropped.values()),
    }
    metrics |= {f"prepare/rows/{name}": n for name, n in summary.rows.items()}
    metrics |= {f"prepare/dropped/{reason}": n for reason, n in counts.dropped.items()}
    metrics |= _length_stats("prepare/problem_chars", summary.problem_chars)
    metrics |= _length_stats("prepare/target_chars", summary.target_chars)
    return metrics


def _length_stats(prefix: str, lengths: list[int]) -> dict[str, float]:
    """Mean, nearest-rank median and 95th percentile, and maximum of non-empty `lengths`."""
    ordered = sorted(lengths)

    def rank(q: float) -> int:
        return ordered[max(math.ceil(q * len(ordered)) - 1, 0)]

    return {
        f"{prefix}/mean": round(sum(ordered) / len(ordered), 1),
        f"{prefix}/p50": rank(0.5),
        f"{prefix}/p95": rank(0.95),
        f"{prefix}/max": ordered[-1],
    }
