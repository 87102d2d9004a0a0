import doctest

import pyarrow.parquet as pq
import pytest

import mathtune.splits
from mathtune.examples import DROP_REASONS, DataError, Example, ExampleCounts
from mathtune.schema import PREPARED_SCHEMA
from mathtune.splits import (
    SplitSummary,
    assign_split,
    hash_fraction,
    prepare_metrics,
    write_splits,
)

SALT = "openr1-split"


def example(uuid: str, target: str = "Step 1: 1 + 1 = 2. $\\boxed{2}$") -> Example:
    return Example(uuid, f"problem {uuid}", "2", target, "Algebra", "math-word-problem", "x")


def test_doctests_pass():
    assert doctest.testmod(mathtune.splits).failed == 0


def test_hash_is_pinned_so_splits_never_move_between_versions():
    # SHA-256 of salt + uuid: changing this value reshuffles every existing split.
    assert hash_fraction("33181412-401d-5aae-8506-41422c811edf", SALT) == 0.7427612386652815


def test_split_sizes_follow_the_fraction_and_the_salt_matters():
    uuids = [f"uuid-{i}" for i in range(4000)]
    validation = [u for u in uuids if assign_split(u, SALT, 0.1) == "validation"]
    assert 0.08 < len(validation) / len(uuids) < 0.12
    other = [u for u in uuids if assign_split(u, "other-salt", 0.1) == "validation"]
    assert validation != other


def test_adding_rows_never_moves_old_rows(tmp_path):
    old = [(example(f"u{i}"), None) for i in range(200)]
    new = old + [(example(f"v{i}"), None) for i in range(300)]
    write_splits(old, tmp_path / "old", SALT, 0.2)
    write_splits(new, tmp_path / "new", SALT, 0.2)
    for name in ("train", "validation"):
        old_uuids = set(pq.read_table(tmp_path / "old" / f"{name}.parquet")["uuid"].to_pylist())
        new_uuids = set(pq.read_table(tmp_path / "new" / f"{name}.parquet")["uuid"].to_pylist())
        assert old_uuids <= new_uuids


def test_written_splits_have_the_prepared_schema_and_every_row(tmp_path, monkeypatch):
    monkeypatch.setattr(mathtune.splits, "ROW_GROUP_ROWS", 7)  # several row groups per split
    examples = [(example(f"u{i}"), None) for i in range(60)]
    summary = write_splits(examples, tmp_path / "out", SALT, 0.25)
    train = pq.read_table(tmp_path / "out" / "train.parquet")
    validation = pq.read_table(tmp_path / "out" / "validation.parquet")
    assert train.schema == PREPARED_SCHEMA == validation.schema
    assert summary.rows == {"train": train.num_rows, "validation": validation.num_rows}
    uuids = train["uuid"].to_pylist() + validation["uuid"].to_pylist()
    assert sorted(uuids) == sorted(f"u{i}" for i in range(60))
    assert train["uuid"].to_pylist() == sorted(train["uuid"].to_pylist(), key=lambda u: int(u[1:]))


def test_source_split_wins_over_the_hash(tmp_path):
    examples = [(example("a"), "validation"), (example("b"), "train"), (example("c"), "train")]
    summary = write_splits(examples, tmp_path / "out", SALT, 0.5)
    assert summary.rows == {"train": 2, "validation": 1}
    assert pq.read_table(tmp_path / "out" / "validation.parquet")["uuid"].to_pylist() == ["a"]


def test_same_input_gives_byte_identical_files(tmp_path):
    examples = [(example(f"u{i}"), None) for i in range(50)]
    write_splits(examples, tmp_path / "one", SALT, 0.2)
    write_splits(examples, tmp_path / "two", SALT, 0.2)
    for name in ("train.parquet", "validation.parquet"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_empty_split_is_an_error_and_leaves_old_outputs_alone(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "train.parquet").write_text("old result")
    with pytest.raises(DataError) as caught:
        write_splits([(example("a"), "train")], out, SALT, 0.1)
    assert "validation split is empty" in str(caught.value)
    assert "prepare.validation_fraction" in str(caught.value)
    assert [path.name for path in tmp_path.iterdir()] == ["out"]  # no temporary left over
    assert (out / "train.parquet").read_text() == "old result"


def test_failure_while_streaming_writes_nothing(tmp_path):
    def examples():
        yield example("a"), "train"
        raise DataError("source broke")

    with pytest.raises(DataError, match="source broke"):
        write_splits(examples(), tmp_path / "out", SALT, 0.1)
    assert list(tmp_path.iterdir()) == []


def test_metrics_are_flat_numbers_with_every_drop_reason():
    counts = ExampleCounts(rows_read=7, kept=4)
    counts.dropped["missing_answer"] = 3
    summary = SplitSummary(
        rows={"train": 3, "validation": 1}, problem_chars=[10, 20, 30, 40], target_chars=[5] * 4
    )
    metrics = prepare_metrics(counts, summary)
    assert all(isinstance(value, int | float) for value in metrics.values())
    assert {f"prepare/dropped/{reason}" for reason in DROP_REASONS} <= set(metrics)
    assert metrics["prepare/dropped/missing_answer"] == 3
    assert metrics["prepare/dropped/total"] == 3
    assert metrics["prepare/rows/read"] == 7 and metrics["prepare/rows/after_limit"] == 4
    assert metrics["prepare/rows/train"] == 3 and metrics["prepare/rows/validation"] == 1
    assert metrics["prepare/problem_chars/mean"] == 25.0
    assert metrics["prepare/problem_chars/p50"] == 20
    assert metrics["prepare/problem_chars/p95"] == 40
    assert metrics["prepare/problem_chars/max"] == 40
    assert metrics["prepare/target_chars/p50"] == 5
