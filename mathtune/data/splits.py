"""Train, validation and held-out-family splits, decontaminated and streamed to Parquet.

Where a row goes:
- a row of a held-out family goes to `heldout` (whole families never seen in training);
- any other row keeps its source's split, or goes to `validation` when SHA-256(salt + uuid),
  read as a number in [0, 1), is below `validation_fraction`, else to `train`. The test
  depends on the row alone, so adding rows never moves old rows across splits, on every
  machine and Python version (unlike the salted built-in `hash`);
- validation and held-out rows must be gradable: an ungradable row that the hash sent to
  validation trains instead, and one of a held-out family or a source validation split is
  dropped;
- a training row whose problem shares a word 8-gram with a benchmark, held-out or (when
  asked) validation problem is dropped, the first match in that order naming the reason.
  Training rows are written to a scratch file first and filtered once every evaluation
  problem is known, so memory holds n-grams, not rows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from mathtune.core.io import atomic_path
from mathtune.core.schema import PREPARED_SCHEMA
from mathtune.data.decontamination import NgramIndex
from mathtune.data.examples import DROP_REASONS, DataError, Example

SPLITS = ("train", "validation", "heldout")
EVAL_SPLITS = ("validation", "heldout")
ROUTE_DROP_REASONS = (
    "ungradable_heldout",  # a held-out family row that cannot be scored: nowhere to go
    "ungradable_validation",  # the source put an unscorable row in its validation split
)
# Checked in this order; a row matching several counts under the first.
CONTAMINATION_REASONS = (
    "contaminated_benchmark",
    "contaminated_heldout",
    "contaminated_validation",
)
ALL_DROP_REASONS = (*DROP_REASONS, *ROUTE_DROP_REASONS, *CONTAMINATION_REASONS)
# Rows per Parquet row group: bounds the buffer (about 30 MB with 30k-character traces).
ROW_GROUP_ROWS = 1000
SCRATCH_TRAIN = "train.unfiltered.parquet"


@dataclass(frozen=True)
class SplitRule:
    """How rows are split and decontaminated (prepare params, resolved)."""

    salt: str
    validation_fraction: float
    heldout_families: frozenset[str]
    ngram: int
    decontaminate_validation: bool
    benchmark_problems: tuple[str, ...] = ()


@dataclass
class SplitReport:
    """Everything prepare counted: rows read, dropped per reason, written per split."""

    rows_read: int = 0
    dropped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ALL_DROP_REASONS, 0))
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))
    ungradable_train: int = 0
    # Training rows kept although they share an n-gram with a validation problem (only
    # counted when validation is not a decontamination target).
    validation_overlap_kept: int = 0
    families: dict[str, Counter] = field(default_factory=lambda: {s: Counter() for s in SPLITS})
    problem_chars: list[int] = field(default_factory=list)
    target_chars: list[int] = field(default_factory=list)

    @property
    def kept(self) -> int:
        """Rows written to any split."""
        return sum(self.rows.values())


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


def route_example(example: Example, source_split: str | None, rule: SplitRule) -> str:
    """The split an example goes to, or the ROUTE_DROP_REASONS entry that rules it out."""
    if example.family in rule.heldout_families:
        return "heldout" if example.gradable else "ungradable_heldout"
    if source_split is not None:
        if source_split == "validation" and not example.gradable:
            return "ungradable_validation"
        return source_split
    if not example.gradable:
        return "train"
    return assign_split(example.uuid, rule.salt, rule.validation_fraction)


class _SplitWriter:
    """Appends examples to one Parquet file in row groups of ROW_GROUP_ROWS."""

    def __init__(self, path: Path) -> None:
        self.writer = pq.ParquetWriter(path, PREPARED_SCHEMA)
        self.buffer: list[dict] = []

    def write(self, example: Example) -> None:
        self.buffer.append(dataclasses.asdict(example))
        if len(self.buffer) == ROW_GROUP_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.writer.write_table(pa.Table.from_pylist(self.buffer, schema=PREPARED_SCHEMA))
            self.buffer.clear()

    def close(self) -> None:
        self.flush()
        self.writer.close()


def write_splits(
    outcomes: Iterable[tuple[Example | str, str | None]], out_dir: str | Path, rule: SplitRule
) -> SplitReport:
    """Write `out_dir`/{train,validation,heldout}.parquet, replacing `out_dir` whole.

    `outcomes` are what `read_examples` yields: an Example or a drop reason, and the source
    split. Raises DataError, leaving `out_dir` untouched, if train or validation ends up empty
    or no held-out family occurs.
    """
    report = SplitReport()
    indexes = {name: NgramIndex(rule.ngram) for name in ("benchmark", *EVAL_SPLITS)}
    for problem in rule.benchmark_problems:
        indexes["benchmark"].add(problem)
    with atomic_path(out_dir) as temporary:
        temporary.mkdir()
        scratch = temporary / SCRATCH_TRAIN
        with contextlib.ExitStack() as stack:
            writers = {name: _SplitWriter(temporary / f"{name}.parquet") for name in EVAL_SPLITS}
            writers["train"] = _SplitWriter(scratch)
            for writer in writers.values():
                stack.callback(writer.close)
            for example in _routed(outcomes, rule, report):
                writers[example[1]].write(example[0])
                if example[1] in EVAL_SPLITS:
                    _record(report, example[0], example[1])
                    indexes[example[1]].add(example[0].problem)
        _filter_train(scratch, temporary / "train.parquet", indexes, rule, report)
        scratch.unlink()
        _check_splits(report, rule)
    return report


def _routed(
    outcomes: Iterable[tuple[Example | str, str | None]], rule: SplitRule, report: SplitReport
) -> Iterator[tuple[Example, str]]:
    for outcome, source_split in outcomes:
        report.rows_read += 1
        routed = outcome if isinstance(outcome, str) else route_example(outcome, source_split, rule)
        if routed in SPLITS:
            yield outcome, routed
        else:
            report.dropped[routed] += 1


def _filter_train(
    scratch: Path, path: Path, indexes: dict[str, NgramIndex], rule: SplitRule, report: SplitReport
) -> None:
    targets = ["benchmark", "heldout"] + (["validation"] if rule.decontaminate_validation else [])
    writer = _SplitWriter(path)
    try:
        for example in _read_examples(scratch):
            match = next(
                (name for name in targets if indexes[name].overlaps(example.problem)), None
            )
            if match is not None:
                report.dropped[f"contaminated_{match}"] += 1
                continue
            if not rule.decontaminate_validation and indexes["validation"].overlaps(
                example.problem
            ):
                report.validation_overlap_kept += 1
            report.ungradable_train += not example.gradable
            _record(report, example, "train")
            writer.write(example)
    finally:
        writer.close()


def _read_examples(path: Path) -> Iterator[Example]:
    with pq.ParquetFile(path) as parquet:
        for batch in parquet.iter_batches(batch_size=ROW_GROUP_ROWS):
            for row in batch.to_pylist():
                yield Example(**row)


def _record(report: SplitReport, example: Example, split: str) -> None:
    report.rows[split] += 1
    report.families[split][example.family] += 1
    report.problem_chars.append(len(example.problem))
    report.target_chars.append(len(example.target))


def _check_splits(report: SplitReport, rule: SplitRule) -> None:
    drops = {reason: n for reason, n in report.dropped.items() if n}
    for name in ("train", "validation"):
        if report.rows[name] == 0:
            raise DataError(
                f"The {name} split is empty after filtering ({report.rows} rows per split of "
                f"{report.rows_read} read; dropped: {drops or 'none'}; validation_fraction "
                f"{rule.validation_fraction}). Use more rows (prepare.max_rows, "
                "prepare.synthetic.rows or a larger source), adjust "
                "prepare.validation_fraction, or hold out fewer families."
            )
    if rule.heldout_families and report.rows["heldout"] == 0:
        seen = sorted({family for counts in report.families.values() for family in counts})
        raise DataError(
            f"No row belongs to a held-out family {sorted(rule.heldout_families)}; the data has "
            f"families {seen[:20]}. Fix: set prepare.heldout_families to some of these, or [] "
            "to hold none out."
        )
