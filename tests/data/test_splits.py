import dataclasses
import doctest

import pyarrow.parquet as pq
import pytest

import mathtune.data.splits
from mathtune.core.schema import PREPARED_SCHEMA
from mathtune.data.examples import DataError, Example
from mathtune.data.splits import (
    ALL_DROP_REASONS,
    SPLITS,
    SplitRule,
    assign_split,
    hash_fraction,
    route_example,
    write_splits,
)

SALT = "openr1-split"
RULE = SplitRule(SALT, 0.2, frozenset({"held"}), ngram=8, decontaminate_validation=False)


def example(uuid: str, family: str = "seen", problem: str | None = None, **changes) -> Example:
    text = problem or f"problem {uuid}"
    fields = dict(target="Step 1: 1 + 1 = 2. $\\boxed{2}$", family=family, gradable=True)
    return Example(
        uuid,
        text,
        "2",
        problem_type="Algebra",
        question_type="math-word-problem",
        source="x",
        **(fields | changes),
    )


def mixed(count: int, prefix: str = "u") -> list[tuple[Example, None]]:
    """`count` rows, every fifth of the held-out family."""
    return [(example(f"{prefix}{i}", "held" if i % 5 == 0 else "seen"), None) for i in range(count)]


def uuids(out, name: str) -> list[str]:
    return pq.read_table(out / f"{name}.parquet")["uuid"].to_pylist()


def test_doctests_pass():
    assert doctest.testmod(mathtune.data.splits).failed == 0


def test_hash_is_pinned_so_splits_never_move_between_versions():
    # SHA-256 of salt + uuid: changing this value reshuffles every existing split.
    assert hash_fraction("33181412-401d-5aae-8506-41422c811edf", SALT) == 0.7427612386652815


def test_split_sizes_follow_the_fraction_and_the_salt_matters():
    ids = [f"uuid-{i}" for i in range(4000)]
    validation = [u for u in ids if assign_split(u, SALT, 0.1) == "validation"]
    assert 0.08 < len(validation) / len(ids) < 0.12
    other = [u for u in ids if assign_split(u, "other-salt", 0.1) == "validation"]
    assert validation != other


@pytest.mark.parametrize(
    ("family", "gradable", "source_split", "expected"),
    [
        ("held", True, None, "heldout"),  # a held-out family goes whole to heldout
        ("held", True, "train", "heldout"),  # even when its source calls it training data
        ("held", False, None, "ungradable_heldout"),  # never trained on, cannot be scored
        ("seen", False, None, "train"),  # unscorable: trains, whatever the hash says
        ("seen", False, "validation", "ungradable_validation"),
        ("seen", True, "validation", "validation"),
        ("seen", False, "train", "train"),
    ],
)
def test_route_follows_family_gradability_and_source(family, gradable, source_split, expected):
    assert route_example(example("a", family, gradable=gradable), source_split, RULE) == expected


def test_ungradable_rows_never_reach_validation(tmp_path):
    rows = [(example(f"u{i}", gradable=i % 2 == 0), None) for i in range(200)]
    report = write_splits([*rows, (example("h", "held"), None)], tmp_path / "out", RULE)
    validation = pq.read_table(tmp_path / "out" / "validation.parquet")
    assert all(validation["gradable"].to_pylist())
    assert report.ungradable_train == 100


def test_adding_rows_never_moves_old_rows(tmp_path):
    old = mixed(200)
    write_splits(old, tmp_path / "old", RULE)
    write_splits(old + mixed(300, prefix="v"), tmp_path / "new", RULE)
    for name in SPLITS:
        assert set(uuids(tmp_path / "old", name)) <= set(uuids(tmp_path / "new", name))


def test_written_splits_have_the_prepared_schema_and_every_row(tmp_path, monkeypatch):
    monkeypatch.setattr(mathtune.data.splits, "ROW_GROUP_ROWS", 7)  # several row groups per split
    report = write_splits(mixed(60), tmp_path / "out", RULE)
    tables = {name: pq.read_table(tmp_path / "out" / f"{name}.parquet") for name in SPLITS}
    assert all(table.schema == PREPARED_SCHEMA for table in tables.values())
    assert report.rows == {name: table.num_rows for name, table in tables.items()}
    assert set(tables["heldout"]["family"].to_pylist()) == {"held"}
    assert (
        "held"
        not in tables["train"]["family"].to_pylist() + tables["validation"]["family"].to_pylist()
    )
    written = [u for name in SPLITS for u in uuids(tmp_path / "out", name)]
    assert sorted(written) == sorted(f"u{i}" for i in range(60))
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "heldout.parquet",
        "train.parquet",
        "validation.parquet",  # no scratch file left
    ]


def test_source_split_wins_over_the_hash(tmp_path):
    rows = [(example("a"), "validation"), (example("b"), "train"), (example("c"), "train")]
    report = write_splits([*rows, (example("h", "held"), None)], tmp_path / "out", RULE)
    assert report.rows == {"train": 2, "validation": 1, "heldout": 1}
    assert uuids(tmp_path / "out", "validation") == ["a"]


def test_drop_reasons_and_reads_are_counted(tmp_path):
    outcomes = [*mixed(40), ("missing_answer", None), ("duplicate_uuid", None)]
    outcomes.append((example("x", "held", gradable=False), None))
    report = write_splits(outcomes, tmp_path / "out", RULE)
    assert report.rows_read == 43 and report.kept == 40
    assert report.dropped == dict.fromkeys(ALL_DROP_REASONS, 0) | {
        "missing_answer": 1,
        "duplicate_uuid": 1,
        "ungradable_heldout": 1,
    }


SHARED = "a train covers 120 km in 2 hours at a steady pace"


@pytest.mark.parametrize(
    ("evaluation_row", "decontaminate_validation", "reason"),
    [
        (example("h", "held", problem=f"{SHARED}. Speed?"), False, "contaminated_heldout"),
        (example("v", problem=f"{SHARED}. Speed?"), True, "contaminated_validation"),
        (example("v", problem=f"{SHARED}. Speed?"), False, None),  # overlap only counted
    ],
)
def test_training_rows_sharing_an_ngram_with_an_evaluation_row_are_dropped(
    tmp_path, evaluation_row, decontaminate_validation, reason
):
    rule = dataclasses.replace(RULE, decontaminate_validation=decontaminate_validation)
    near = example("t", problem=f"Now {SHARED.upper()}! How far in 3 hours?")
    rows = [(evaluation_row, "validation"), (near, "train"), (example("far"), "train")]
    rows += [(example("v2"), "validation"), (example("h2", "held"), None)]
    report = write_splits(rows, tmp_path / "out", rule)
    dropped = {key: n for key, n in report.dropped.items() if n}
    assert dropped == ({reason: 1} if reason else {})
    assert ("t" in uuids(tmp_path / "out", "train")) is (reason is None)
    assert report.validation_overlap_kept == (0 if decontaminate_validation or reason else 1)


def test_benchmark_problems_are_checked_first(tmp_path):
    rule = dataclasses.replace(RULE, benchmark_problems=(f"Q: {SHARED}?",))
    rows = [(example("h", "held", problem=SHARED), None), (example("t", problem=SHARED), "train")]
    rows += [(example("v"), "validation"), (example("kept"), "train")]
    report = write_splits(rows, tmp_path / "out", rule)
    assert report.dropped["contaminated_benchmark"] == 1
    assert report.dropped["contaminated_heldout"] == 0


def test_same_input_gives_byte_identical_files(tmp_path):
    write_splits(mixed(50), tmp_path / "one", RULE)
    write_splits(mixed(50), tmp_path / "two", RULE)
    for name in SPLITS:
        one, two = (tmp_path / run / f"{name}.parquet" for run in ("one", "two"))
        assert one.read_bytes() == two.read_bytes()


def test_empty_split_is_an_error_and_leaves_old_outputs_alone(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "train.parquet").write_text("old result")
    with pytest.raises(DataError) as caught:
        write_splits([(example("a"), "train"), (example("h", "held"), None)], out, RULE)
    assert "validation split is empty" in str(caught.value)
    assert "prepare.validation_fraction" in str(caught.value)
    assert [path.name for path in tmp_path.iterdir()] == ["out"]  # no temporary left over
    assert (out / "train.parquet").read_text() == "old result"


def test_held_out_families_that_never_occur_are_an_error_naming_the_families_seen(tmp_path):
    rows = [(example("a"), "train"), (example("b", "Geometry"), "validation")]
    with pytest.raises(DataError) as caught:
        write_splits(rows, tmp_path / "out", RULE)
    assert "['held']" in str(caught.value) and "Geometry" in str(caught.value)
    assert "prepare.heldout_families" in str(caught.value)
    no_holdout = dataclasses.replace(RULE, heldout_families=frozenset())
    assert write_splits(rows, tmp_path / "out", no_holdout).rows["heldout"] == 0


def test_failure_while_streaming_writes_nothing(tmp_path):
    def outcomes():
        yield example("a"), "train"
        raise DataError("source broke")

    with pytest.raises(DataError, match="source broke"):
        write_splits(outcomes(), tmp_path / "out", RULE)
    assert list(tmp_path.iterdir()) == []
