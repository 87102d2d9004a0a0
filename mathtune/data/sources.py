"""Raw OpenR1-Math-220k rows from the hub, local Parquet/JSONL files or the synthetic generator.

Every source is checked before the expensive read (files exist, have a known format and the
needed columns) and then streamed in batches of `read_batch_rows` rows, decoding only the
needed columns, so memory stays bounded on the 94k-row hub config. A batch is plain rows:

    RowBatch(rows=[{"problem": "...", "answer": "38", "uuid": "1f0c...", ...}], split=None)

`split` is the source's own split ("train" or "validation") or None when prepare assigns one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from mathtune.core.errors import MathtuneError
from mathtune.core.params import HubDatasetParams, PrepareParams
from mathtune.core.schema import needed_columns
from mathtune.curriculum.rows import generate_table

logger = logging.getLogger(__name__)

PARQUET_SUFFIXES = (".parquet",)
JSONL_SUFFIXES = (".jsonl", ".json")
HUB_SPLITS = ("train", "validation")
# Python rows cost as much memory again as their Arrow batch (~250 MB for 4096 rows of R1
# traces): converting a few hundred rows at a time keeps only the Arrow copy large.
CONVERT_ROWS = 256


class SourceError(MathtuneError):
    """A source cannot be read: missing file, unknown format, missing column, unreachable hub."""


@dataclass(frozen=True)
class RowBatch:
    """Rows holding only the needed columns, and the source's split (None: prepare assigns)."""

    rows: list[dict[str, Any]]
    split: str | None


@dataclass
class RowSource:
    """A checked source: its name, its row count when known, and its batches (read lazily)."""

    name: str
    total_rows: int | None
    batches: Iterator[RowBatch]

    def __iter__(self) -> Iterator[RowBatch]:
        progress = tqdm(
            total=self.total_rows, unit="rows", desc=f"prepare {self.name}", disable=None
        )
        with progress:
            for batch in self.batches:
                progress.update(len(batch.rows))
                yield batch


def open_source(params: PrepareParams) -> RowSource:
    """Check the source that `params.source` names and return it ready to stream."""
    columns = needed_columns(params.target)
    if params.source == "local":
        return open_local_files(params.local_files, columns, params.read_batch_rows)
    if params.source == "hub":
        return open_hub(params.hub, columns, params.read_batch_rows)
    rows, seed = params.synthetic.rows, params.synthetic.seed
    return RowSource(
        "synthetic", rows, _synthetic_batches(rows, seed, columns, params.read_batch_rows)
    )


def _synthetic_batches(rows: int, seed: int, columns: list[str], size: int) -> Iterator[RowBatch]:
    for start in range(0, rows, size):
        table = generate_table(min(size, rows - start), seed, start=start)
        yield from _to_row_batches(table.select(columns), split=None)


def _to_row_batches(data: pa.Table | pa.RecordBatch, split: str | None) -> Iterator[RowBatch]:
    for offset in range(0, data.num_rows, CONVERT_ROWS):
        yield RowBatch(data.slice(offset, CONVERT_ROWS).to_pylist(), split)


def open_local_files(paths: list[str], columns: list[str], batch_rows: int) -> RowSource:
    """Check every file (exists, .parquet/.jsonl/.json, not empty, has `columns`), then stream."""
    files = [Path(path) for path in paths]
    counts = [_check_local_file(path, columns) for path in files]
    total = None if None in counts else sum(counts)
    return RowSource("local", total, _local_batches(files, columns, batch_rows))


def _check_local_file(path: Path, columns: list[str]) -> int | None:
    """Return the row count of a Parquet file (None for JSONL: unknown until read)."""
    allowed = PARQUET_SUFFIXES + JSONL_SUFFIXES
    if path.suffix.lower() not in allowed:
        raise SourceError(
            f"prepare.local_files: {path} has suffix {path.suffix!r}; allowed are "
            f"{', '.join(allowed)}. Convert it to Parquet or JSON Lines in the OpenR1 schema."
        )
    if not path.is_file():
        raise SourceError(f"prepare.local_files: {path} not found; paths are relative to the repo.")
    if path.suffix.lower() in PARQUET_SUFFIXES:
        names, rows = _read_parquet_header(path)
    else:
        names, rows = _read_jsonl_header(path), None
    missing = [column for column in columns if column not in names]
    if missing:
        raise SourceError(
            f"{path} lacks column {missing[0]!r} (all missing: {', '.join(missing)}); "
            f"prepare needs {', '.join(columns)} from the OpenR1-Math-220k schema."
        )
    return rows


def _read_parquet_header(path: Path) -> tuple[list[str], int]:
    try:
        with pq.ParquetFile(path) as parquet:
            names, rows = parquet.schema_arrow.names, parquet.metadata.num_rows
    except (pa.ArrowException, OSError) as err:
        raise SourceError(f"{path} is not a readable Parquet file ({err}); rewrite it.") from err
    if rows == 0:
        raise SourceError(f"{path} is an empty Parquet file (0 rows); remove it from local_files.")
    return names, rows


def _read_jsonl_header(path: Path) -> list[str]:
    """Keys of the first record; a JSONL file with no record is an error."""
    try:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    return list(_parse_json_line(path, number, line))
    except UnicodeDecodeError as err:
        raise SourceError(f"{path} is not UTF-8 text ({err}); write JSON Lines as UTF-8.") from err
    raise SourceError(f"{path} is empty (no JSON lines); remove it from local_files.")


def _parse_json_line(path: Path, number: int, line: str) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise SourceError(f"{path}:{number} is not valid JSON ({err}); fix or drop it.") from err
    if not isinstance(record, dict):
        raise SourceError(
            f"{path}:{number} is a JSON {type(record).__name__}, not an object; prepare reads "
            "JSON Lines: one OpenR1 row object per line."
        )
    return record


def _local_batches(files: list[Path], columns: list[str], batch_rows: int) -> Iterator[RowBatch]:
    for path in files:
        logger.info("reading %s", path)
        try:
            if path.suffix.lower() in PARQUET_SUFFIXES:
                with pq.ParquetFile(path) as parquet:
                    yield from _parquet_batches(parquet, columns, batch_rows)
            else:
                yield from _jsonl_batches(path, columns, batch_rows)
        except (pa.ArrowException, OSError, UnicodeDecodeError) as err:
            raise SourceError(f"{path} is corrupt past its header ({err}); rewrite it.") from err


def _parquet_batches(
    parquet: pq.ParquetFile, columns: list[str], batch_rows: int
) -> Iterator[RowBatch]:
    # One row group at a time: batches spanning row groups made pyarrow's memory pool peak
    # about three times higher (682 vs 235 MB on benchmarks/bench_prepare.py's file).
    for group in range(parquet.num_row_groups):
        batches = parquet.iter_batches(batch_size=batch_rows, row_groups=[group], columns=columns)
        for batch in batches:
            yield from _to_row_batches(batch, split=None)


def _jsonl_batches(path: Path, columns: list[str], batch_rows: int) -> Iterator[RowBatch]:
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            record = _parse_json_line(path, number, line)
            rows.append({column: record.get(column) for column in columns})
            if len(rows) == batch_rows:
                yield RowBatch(rows, split=None)
                rows = []
    if rows:
        yield RowBatch(rows, split=None)


def open_hub(hub: HubDatasetParams, columns: list[str], batch_rows: int) -> RowSource:
    """Download (or reuse the cache of) a pinned hub data set, keeping only `columns`.

    Uses the hub's `validation` split when it has one; otherwise prepare splits `train`.
    """
    # Imported here: `datasets` is slow to import and only this source needs it.
    import datasets
    import httpx

    where = f"hub data set {hub.dataset!r} (config {hub.config!r}, revision {hub.revision})"
    try:
        splits = datasets.load_dataset(
            hub.dataset, hub.config, revision=hub.revision, columns=columns
        )
    except (OSError, ValueError, datasets.exceptions.DatasetsError, httpx.HTTPError) as err:
        raise SourceError(
            f"Could not load {where} with columns {', '.join(columns)}: {err}. Check network "
            "access, the data set id and that it has these columns, or set prepare.source: "
            "local with prepare.local_files (or prepare.source: synthetic to run offline)."
        ) from err
    if "train" not in splits:
        raise SourceError(f"{where} has splits {list(splits)} but no 'train' split.")
    missing = [column for column in columns if column not in splits["train"].column_names]
    if missing:
        raise SourceError(f"{where} lacks column {missing[0]!r}; prepare needs {columns}.")
    own_split = "validation" in splits
    logger.info("%s: splits %s", where, list(splits))
    names = [name for name in HUB_SPLITS if name in splits]
    total = sum(splits[name].num_rows for name in names)
    batches = (
        row_batch
        for name in names
        for table in splits[name].with_format("arrow").iter(batch_size=batch_rows)
        for row_batch in _to_row_batches(table, split=name if own_split else None)
    )
    return RowSource("hub", total, batches)
