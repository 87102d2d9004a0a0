import doctest

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mathtune.core.schema
from mathtune.core.schema import (
    OPENR1_SCHEMA,
    PREPARED_SCHEMA,
    SplitError,
    needed_columns,
    read_prepared_columns,
)


def test_doctests_pass():
    assert doctest.testmod(mathtune.core.schema).failed == 0


def test_openr1_schema_has_the_hub_columns_in_order():
    assert OPENR1_SCHEMA.names == [
        "problem", "solution", "answer", "problem_type", "question_type", "source", "uuid",
        "is_reasoning_complete", "generations", "correctness_math_verify", "correctness_llama",
        "finish_reasons", "correctness_count", "messages",
    ]  # fmt: skip
    assert OPENR1_SCHEMA.field("generations").type == pa.list_(pa.string())
    assert OPENR1_SCHEMA.field("correctness_count").type == pa.int64()
    message = OPENR1_SCHEMA.field("messages").type.value_type
    assert [message.field(i).name for i in range(message.num_fields)] == ["content", "role"]


def test_prepared_schema_is_strings_and_a_gradable_flag_in_the_agreed_order():
    assert PREPARED_SCHEMA.names == [
        "uuid", "problem", "answer", "target", "problem_type", "question_type", "source",
        "family", "gradable",
    ]  # fmt: skip
    assert PREPARED_SCHEMA.field("gradable").type == pa.bool_()
    assert all(field.type == pa.string() for field in PREPARED_SCHEMA if field.name != "gradable")


def test_needed_columns_reads_traces_only_for_the_trace_target():
    solution, trace = needed_columns("solution"), needed_columns("trace")
    assert "generations" not in solution
    assert set(trace) - set(solution) == {
        "generations", "correctness_math_verify", "is_reasoning_complete",
    }  # fmt: skip
    assert set(trace) <= set(OPENR1_SCHEMA.names)


def test_read_prepared_columns_returns_the_asked_columns_in_file_order(tmp_path):
    path = tmp_path / "split.parquet"
    pq.write_table(pa.table({"uuid": ["b", "a"], "problem": ["p1", "p2"], "extra": [1, 2]}), path)
    assert read_prepared_columns(path, ["problem", "uuid"]) == {
        "problem": ["p1", "p2"],
        "uuid": ["b", "a"],
    }


def test_read_prepared_columns_names_the_missing_column_and_the_fix(tmp_path):
    path = tmp_path / "split.parquet"
    pq.write_table(pa.table({"uuid": ["a"]}), path)
    with pytest.raises(SplitError, match=r"missing \['problem'\]. Fix: rerun the prepare stage"):
        read_prepared_columns(path, ["uuid", "problem"])
