import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import changed
from mathtune.core.params import HubDatasetParams, load_params
from mathtune.core.schema import needed_columns
from mathtune.curriculum.rows import generate_table
from mathtune.data.sources import SourceError, open_hub, open_local_files, open_source

ROOT = Path(__file__).resolve().parents[2]
SOLUTION_COLUMNS = needed_columns("solution")
TRACE_COLUMNS = needed_columns("trace")


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return generate_table(count=25, seed=0)


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def read_all(source) -> list[dict]:
    return [row for batch in source for row in batch.rows]


def test_parquet_streams_only_needed_columns_in_bounded_batches(tmp_path, table):
    path = tmp_path / "rows.parquet"
    pq.write_table(table, path, row_group_size=10)
    source = open_local_files([str(path)], TRACE_COLUMNS, batch_rows=4)
    batches = list(source)
    assert source.total_rows == 25
    assert max(len(batch.rows) for batch in batches) == 4
    assert all(batch.split is None for batch in batches)
    rows = [row for batch in batches for row in batch.rows]
    assert rows == table.select(TRACE_COLUMNS).to_pylist()


def test_jsonl_and_json_read_the_same_rows_as_parquet(tmp_path, table):
    expected = table.select(SOLUTION_COLUMNS).to_pylist()
    for name in ("rows.jsonl", "rows.json"):
        path = write_jsonl(tmp_path / name, table.to_pylist())
        with path.open("a") as handle:
            handle.write("\n")  # a trailing blank line is not a row
        assert read_all(open_local_files([str(path)], SOLUTION_COLUMNS, batch_rows=7)) == expected


def test_jsonl_row_without_a_column_reads_it_as_null(tmp_path, table):
    rows = table.to_pylist()[:2]
    del rows[1]["answer"]
    read = read_all(
        open_local_files([str(write_jsonl(tmp_path / "a.jsonl", rows))], SOLUTION_COLUMNS, 5)
    )
    assert read[1]["answer"] is None


def test_bad_files_are_reported_before_any_read(tmp_path, table):
    good = tmp_path / "good.parquet"
    pq.write_table(table, good)
    empty_parquet = tmp_path / "empty.parquet"
    pq.write_table(table.slice(0, 0), empty_parquet)
    (tmp_path / "zero.parquet").write_bytes(b"")
    (tmp_path / "text.parquet").write_text("problem,answer\n")
    (tmp_path / "rows.csv").write_text("problem,answer\n")
    (tmp_path / "blank.jsonl").write_text("\n\n")
    (tmp_path / "broken.jsonl").write_text('\n{"problem": \n')
    (tmp_path / "array.json").write_text(json.dumps(table.to_pylist()[:2]))
    (tmp_path / "binary.jsonl").write_bytes(b"\xff\xfe\x00{")
    pq.write_table(table.drop_columns(["answer"]), tmp_path / "no_answer.parquet")
    write_jsonl(tmp_path / "no_uuid.jsonl", [{"problem": "p", "answer": "1"}])
    cases = [  # (file, words the message must contain)
        ("rows.csv", ["rows.csv", "'.csv'", ".parquet, .jsonl, .json"]),
        ("missing.parquet", ["missing.parquet", "not found"]),
        ("empty.parquet", ["empty.parquet", "0 rows"]),
        ("zero.parquet", ["zero.parquet", "not a readable Parquet file"]),
        ("text.parquet", ["text.parquet", "not a readable Parquet file"]),
        ("blank.jsonl", ["blank.jsonl", "empty"]),
        ("broken.jsonl", ["broken.jsonl:2", "not valid JSON"]),
        ("array.json", ["array.json:1", "list, not an object", "one OpenR1 row object per line"]),
        ("binary.jsonl", ["binary.jsonl", "not UTF-8 text"]),
        ("no_answer.parquet", ["no_answer.parquet", "lacks column 'answer'"]),
        ("no_uuid.jsonl", ["no_uuid.jsonl", "lacks column 'solution'", "uuid"]),
    ]
    for name, words in cases:
        # The good file comes first: the bad one must still stop the run before reading.
        with pytest.raises(SourceError) as caught:
            open_local_files([str(good), str(tmp_path / name)], SOLUTION_COLUMNS, 10)
        for word in words:
            assert word in str(caught.value), (name, str(caught.value))


def test_synthetic_source_gives_needed_columns_of_params_rows():
    params = load_params(ROOT / "params.yaml").prepare
    params = changed(
        params, source="synthetic", synthetic=changed(params.synthetic, rows=30),
        read_batch_rows=8, target="trace",
    )  # fmt: skip
    source = open_source(params)
    rows = read_all(source)
    assert source.total_rows == len(rows) == 30
    assert list(rows[0]) == TRACE_COLUMNS


# A stand-in for the hub repository: configs declared in README.md, as on the hub.
HUB_README = """---
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*
- config_name: extended
  data_files:
  - split: train
    path: extended/train-*
  - split: validation
    path: extended/validation-*
---
"""


@pytest.fixture
def offline_hub(tmp_path, monkeypatch):
    import datasets

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "cache"))
    return tmp_path


def make_hub_repo(root: Path, table: pa.Table) -> Path:
    repo = root / "repo"
    for folder in ("data", "extended"):
        (repo / folder).mkdir(parents=True)
    (repo / "README.md").write_text(HUB_README)
    pq.write_table(table.slice(0, 20), repo / "data" / "train-00000-of-00001.parquet")
    pq.write_table(table.slice(0, 20), repo / "extended" / "train-00000-of-00001.parquet")
    pq.write_table(table.slice(20), repo / "extended" / "validation-00000-of-00001.parquet")
    return repo


def test_hub_loader_reads_needed_columns_and_the_source_validation_split(offline_hub, table):
    repo = str(make_hub_repo(offline_hub, table))
    default = open_hub(
        HubDatasetParams(dataset=repo, config="default", revision="main"),
        SOLUTION_COLUMNS,
        batch_rows=8,
    )
    batches = list(default)
    assert default.total_rows == 20 and {batch.split for batch in batches} == {None}
    rows = [row for batch in batches for row in batch.rows]
    assert rows == table.slice(0, 20).select(SOLUTION_COLUMNS).to_pylist()

    extended = open_hub(
        HubDatasetParams(dataset=repo, config="extended", revision="main"),
        TRACE_COLUMNS,
        batch_rows=8,
    )
    splits = [(batch.split, len(batch.rows)) for batch in extended]
    assert splits == [("train", 8), ("train", 8), ("train", 4), ("validation", 5)]


def test_hub_id_without_network_says_what_to_do(offline_hub):
    hub = HubDatasetParams(
        dataset="open-r1/OpenR1-Math-220k", config="default", revision="e4e141ec9dea"
    )
    with pytest.raises(SourceError) as caught:
        open_hub(hub, SOLUTION_COLUMNS, batch_rows=8)
    message = str(caught.value)
    for word in ("open-r1/OpenR1-Math-220k", "network", "prepare.source: local"):
        assert word in message


def test_hub_missing_column_is_a_source_error(offline_hub, table):
    repo = str(make_hub_repo(offline_hub, table.drop_columns(["answer"])))
    with pytest.raises(SourceError, match="answer"):
        open_hub(
            HubDatasetParams(dataset=repo, config="default", revision="main"),
            SOLUTION_COLUMNS,
            batch_rows=8,
        )


def test_jsonl_total_is_unknown_until_read(tmp_path, table):
    path = write_jsonl(tmp_path / "rows.jsonl", table.to_pylist())
    assert open_local_files([str(path)], SOLUTION_COLUMNS, 10).total_rows is None


def test_bad_json_past_the_first_line_is_a_source_error_when_read(tmp_path, table):
    path = write_jsonl(tmp_path / "rows.jsonl", table.to_pylist()[:3])
    with path.open("a") as handle:
        handle.write("{not json\n")
    source = open_local_files([str(path)], SOLUTION_COLUMNS, 10)
    with pytest.raises(SourceError, match="rows.jsonl:4 is not valid JSON"):
        read_all(source)


def test_corrupt_parquet_data_is_a_source_error_when_read(tmp_path, table):
    path = tmp_path / "rows.parquet"
    pq.write_table(table, path, compression="none")
    data = bytearray(path.read_bytes())
    data[100:4000] = b"\xff" * 3900  # pages garbled, footer intact
    path.write_bytes(bytes(data))
    source = open_local_files([str(path)], SOLUTION_COLUMNS, 10)
    with pytest.raises(SourceError, match="rows.parquet is corrupt"):
        read_all(source)
