"""Reading the seen and held-out splits and the benchmarks (local stand-in files)."""

from __future__ import annotations

import copy
import doctest
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

import mathtune.eval.sets
from conftest import write_jsonl
from mathtune.core.params import build_params
from mathtune.core.schema import PREPARED_SCHEMA, SplitError
from mathtune.eval.sets import (
    EvalSetError,
    Problem,
    gsm8k_gold,
    read_benchmarks,
    read_probe_sets,
    read_split,
    select_rows,
)

REPO = Path(__file__).resolve().parents[2]
DEFAULTS = yaml.safe_load((REPO / "params.yaml").read_text())
# Prepared splits without the family column, as prepare wrote them before families existed.
SCHEMA_WITHOUT_FAMILY = PREPARED_SCHEMA.remove(PREPARED_SCHEMA.get_field_index("family"))
MATH500_ROWS = [
    {
        "problem": "Compute $\\dbinom{8}{4}$.",
        "solution": "... $\\boxed{70}$",
        "answer": "70",
        "subject": "Counting & Probability",
        "level": 2,
        "unique_id": "test/counting_and_probability/1.json",
    },
    {
        "problem": "What is $\\frac{1}{2} + \\frac{1}{3}$?",
        "solution": "... $\\boxed{\\frac{5}{6}}$",
        "answer": "\\frac{5}{6}",
        "subject": "Prealgebra",
        "level": 1,
        "unique_id": "test/prealgebra/2.json",
    },
]
GSM8K_ROWS = [
    {
        "question": "Ann has 3 bags of 400 beads. How many beads?",
        "answer": "3*400=1200\n#### 1,200",
    },
    {"question": "Tom is 7 and Ben is 2 years older. Ben's age?", "answer": "7+2=9\n#### 9"},
]


def write_split(path: Path, families: list[str], schema: pa.Schema = PREPARED_SCHEMA) -> Path:
    columns = {name: [f"{name}-{i}" for i in range(len(families))] for name in schema.names}
    if "gradable" in schema.names:
        columns["gradable"] = [True] * len(families)
    if "family" in schema.names:
        columns["family"] = families
    pq.write_table(pa.table(columns, schema=schema), path)
    return path


def benchmarks(**changes):
    raw = copy.deepcopy(DEFAULTS)
    for dotted, value in changes.items():
        section = raw["evaluate"]["benchmarks"]
        *parents, leaf = dotted.split("__")
        for parent in parents:
            section = section[parent]
        section[leaf] = value
    return build_params(raw).evaluate.benchmarks


def test_split_rows_become_problems_spread_over_families(tmp_path):
    path = write_split(tmp_path / "heldout.parquet", ["a", "a", "a", "b", "c", "c"])
    heldout = read_split("heldout", path, max_samples=4)
    assert heldout.name == "heldout" and not heldout.benchmark
    assert [p.family for p in heldout.problems] == ["a", "b", "c", "a"]
    assert heldout.problems[0] == Problem("uuid-0", "problem-0", "answer-0", "problem_type-0", "a")
    assert len(read_split("heldout", path, max_samples=None).problems) == 6


@pytest.mark.parametrize(
    "families, limit, expected",
    [
        (["a", "a", "b"], None, ["a", "b", "a"]),
        (["a", "a", "b"], 1, ["a"]),
        (["a", "b", "a", "b"], 10, ["a", "b", "a", "b"]),  # already interleaved: unchanged
        ([], 3, []),
    ],
)
def test_select_rows_takes_each_family_in_turn(families, limit, expected):
    problems = [Problem(str(i), "", "", "", family) for i, family in enumerate(families)]
    assert [p.family for p in select_rows(problems, limit)] == expected


def test_split_without_family_column_names_the_fix(tmp_path):
    path = write_split(tmp_path / "validation.parquet", ["a"], schema=SCHEMA_WITHOUT_FAMILY)
    with pytest.raises(SplitError, match=r"missing \['family'\].*dvc repro prepare"):
        read_split("seen", path, max_samples=None)


def test_missing_heldout_file_names_the_stage_to_run(tmp_path):
    with pytest.raises(SplitError, match="dvc repro prepare"):
        read_split("heldout", tmp_path / "heldout.parquet", max_samples=None)


@pytest.mark.parametrize(
    "solution, gold",
    [
        ("2 + 3 = 5\n#### 5", "5"),
        ("#### 1,234,567", "1234567"),  # thousands separators dropped
        ("x\n#### -3.5", "-3.5"),
        ("a #### 1\nb #### 2", "2"),  # the last marker wins
    ],
)
def test_gsm8k_gold_is_the_text_after_the_marker(solution, gold):
    assert gsm8k_gold(solution) == gold


def test_no_benchmark_by_default():
    assert read_benchmarks(benchmarks()) == []


def test_local_math500_jsonl_and_gsm8k_parquet(tmp_path):
    gsm8k_file = tmp_path / "gsm8k.parquet"
    pq.write_table(pa.Table.from_pylist(GSM8K_ROWS), gsm8k_file)
    params = benchmarks(
        math500__source="local",
        math500__local_files=[write_jsonl(tmp_path / "math500.jsonl", MATH500_ROWS)],
        gsm8k__source="local",
        gsm8k__local_files=[str(gsm8k_file)],
    )
    math500, gsm8k = read_benchmarks(params)
    assert (math500.name, math500.benchmark) == ("math500", True)
    assert math500.problems[1] == Problem(
        "test/prealgebra/2.json",
        MATH500_ROWS[1]["problem"],
        "\\frac{5}{6}",
        "Prealgebra",
        "level 1",
    )
    assert math500.groups == {"family": "level", "problem_type": "subject"}
    assert [p.answer for p in gsm8k.problems] == ["1200", "9"]
    assert [p.uuid for p in gsm8k.problems] == ["gsm8k-test-0", "gsm8k-test-1"]


def test_benchmark_max_samples_keeps_the_first_problems(tmp_path):
    params = benchmarks(
        gsm8k__source="local",
        gsm8k__local_files=[write_jsonl(tmp_path / "g.jsonl", GSM8K_ROWS)],
        max_samples=1,
    )
    (gsm8k,) = read_benchmarks(params)
    assert [p.problem for p in gsm8k.problems] == [GSM8K_ROWS[0]["question"]]


@pytest.mark.parametrize(
    "name, rows, message",
    [
        ("math500.jsonl", [{"problem": "x", "answer": "1"}], r"missing \['subject', 'level'"),
        ("math500.csv", MATH500_ROWS, "has suffix '.csv'"),
    ],
)
def test_unusable_local_benchmark_names_the_fix(tmp_path, name, rows, message):
    path = write_jsonl(tmp_path / name, rows)
    params = benchmarks(math500__source="local", math500__local_files=[path])
    with pytest.raises(EvalSetError, match=message):
        read_benchmarks(params)


def test_a_file_listed_twice_is_refused_before_any_model_loads(tmp_path):
    path = write_jsonl(tmp_path / "math500.jsonl", MATH500_ROWS)
    params = benchmarks(math500__source="local", math500__local_files=[path, path])
    with pytest.raises(EvalSetError, match=r"math500: 2 problem ids occur more than once"):
        read_benchmarks(params)


def test_missing_local_benchmark_file(tmp_path):
    params = benchmarks(gsm8k__source="local", gsm8k__local_files=[str(tmp_path / "no.jsonl")])
    with pytest.raises(EvalSetError, match="not found"):
        read_benchmarks(params)


def test_unreachable_hub_names_the_offline_fixes():
    # Tests run with HF_DATASETS_OFFLINE=1: the hub cannot be reached.
    with pytest.raises(EvalSetError, match="source: local with local_files"):
        read_benchmarks(benchmarks(gsm8k__source="hub"))


def test_doctests_pass():
    assert doctest.testmod(mathtune.eval.sets).failed == 0


def test_probe_sets_are_taken_a_file_and_a_category_at_a_time(tmp_path):
    hand = [{"uuid": f"h{i}", "category": c, "problem": f"p{i}", "answer": i} for i, c in
            enumerate(["sum", "sum", "sum", "rate"])]  # fmt: skip
    generated = [{"uuid": f"g{i}", "category": "gcd", "problem": f"q{i}", "answer": "1"}
                 for i in range(3)]  # fmt: skip
    paths = [
        write_jsonl(tmp_path / "hand.jsonl", hand),
        write_jsonl(tmp_path / "gen.jsonl", generated),
    ]
    probe = read_probe_sets(paths, max_samples=5)
    assert probe.name == "probe" and not probe.benchmark
    # hand: sum, rate, sum, sum; gen: gcd x3; then the files in turn
    assert [p.uuid for p in probe.problems] == ["h0", "g0", "h3", "g1", "h1"]
    assert probe.problems[0] == Problem("h0", "p0", "0", "hand", "sum")
    assert len(read_probe_sets(paths, max_samples=None).problems) == 7


@pytest.mark.parametrize(
    "rows, message",
    [
        (None, "not found"),
        ([{"uuid": "a", "problem": "p", "answer": "1"}], r"lacks columns \['category'\]"),
        ([], "has 0 rows"),
    ],
)
def test_a_bad_probe_file_names_the_problem_and_the_fix(tmp_path, rows, message):
    path = tmp_path / "probe.jsonl"
    if rows is not None:
        write_jsonl(path, rows)
    with pytest.raises(EvalSetError, match=message):
        read_probe_sets([str(path)], max_samples=4)
