"""Atomic writes for stage outputs.

A stage killed halfway must not leave a file that DVC or a later stage could take for a
result, so every output is written to a temporary sibling and moved into place at the end
(a rename within one file system is atomic).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to `path`; move it onto `path` only if the block succeeds.

    Works for files and directories alike: whatever the block creates at the yielded path
    replaces `path` as a whole.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent)) / path.name
    try:
        yield temporary
        _remove(path)
        os.replace(temporary, path)
    finally:
        shutil.rmtree(temporary.parent, ignore_errors=True)


def write_json(path: str | Path, data: dict[str, Any], sort_keys: bool = True) -> None:
    """Write `data` as indented JSON, keys sorted (stable diffs) unless their order matters."""
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2, sort_keys=sort_keys) + "\n")


def write_metrics(
    metrics_path: str | Path, report_path: str | Path, report: dict[str, Any], headline: list[str]
) -> dict[str, Any]:
    """Write a stage's whole report, and its headline (the `headline` keys it has, in that
    order: `dvc exp show` prints them so) as the DVC metrics file; return the headline.

    Every number stays versioned in the report (a plain output, in git); the metrics file
    keeps the few a person compares experiments by, so the experiment table stays narrow.
    """
    selected = {key: report[key] for key in headline if key in report}
    write_json(report_path, report)
    write_json(metrics_path, selected, sort_keys=False)
    return selected


def write_parquet(path: str | Path, table: pa.Table) -> None:
    """Write an Arrow table as Parquet."""
    with atomic_path(path) as temporary:
        pq.write_table(table, temporary)


def write_csv(
    path: str | Path, rows: list[dict[str, Any]], fieldnames: list[str] | None = None
) -> None:
    """Write rows as CSV with a header line and LF line ends; the columns are `fieldnames`,
    or the first row's keys in order (empty cells where a row has None)."""
    columns = fieldnames if fieldnames is not None else list(rows[0])
    with atomic_path(path) as temporary, temporary.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
