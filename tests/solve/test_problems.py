"""Problem files: three formats, gold answers as text, bad files refused with the row at fault."""

from __future__ import annotations

import doctest

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import write_jsonl
from mathtune.solve import problems as problems_module
from mathtune.solve.problems import Problem, ProblemError, check_problem, read_problems

EXPECTED = [Problem("What is 2 + 3?", "5"), Problem("Halve 1.", None)]


def write_each_format(directory):
    """The same two problems (the second without a gold answer) in every format read."""
    write_jsonl(
        directory / "p.jsonl", [{"problem": "What is 2 + 3?", "answer": 5}, {"problem": "Halve 1."}]
    )
    (directory / "p.csv").write_text('problem,answer\nWhat is 2 + 3?,5\n"Halve 1.",\n')
    table = pa.table(
        {"problem": ["What is 2 + 3?", "Halve 1."], "answer": ["5", None], "id": [1, 2]}
    )
    pq.write_table(table, directory / "p.parquet")


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_every_format_gives_problems_with_text_answers(suffix, tmp_path):
    write_each_format(tmp_path)
    assert read_problems(tmp_path / f"p{suffix}") == EXPECTED


def test_blank_jsonl_lines_are_skipped_and_numbers_kept_as_text(tmp_path):
    (tmp_path / "p.jsonl").write_text(
        '{"problem": "Add 1 and 2.", "answer": 3}\n\n{"problem": 7}\n'
    )
    assert read_problems(tmp_path / "p.jsonl") == [Problem("Add 1 and 2.", "3"), Problem("7", None)]


@pytest.mark.parametrize(
    "name, content, message",
    [
        # problems under another column name
        ("q.jsonl", '{"question": "2 + 3?"}\n', r"no `problem` column \(its columns: question\)"),
        # a CSV row without its problem
        ("b.csv", "problem\nAdd 1 and 2.\n\n,\n", "b.csv line 4: the problem is empty"),
        # a JSONL line that is a list, not an object
        ("l.jsonl", '{"problem": "a"}\n[1, 2]\n', "l.jsonl line 2 is not a JSON object"),
        # a JSONL line that is not JSON at all
        ("t.jsonl", "What is 2 + 3?\n", "t.jsonl line 1 is not a JSON object"),
        # a header and no rows
        ("e.csv", "problem,answer\n", "holds no problems"),
        # a format that is not read
        ("p.txt", "What is 2 + 3?\n", r"cannot read \.txt\. Fix: give a \.jsonl, \.parquet, \.csv"),
        # a file in another encoding
        ("latin.csv", "problem\nCombien font 2 × 3 ?\n".encode("latin-1"), "is not UTF-8"),
        # not Parquet inside
        ("fake.parquet", "problem\n", "not a readable Parquet file"),
    ],
)
def test_bad_files_name_the_fix(name, content, message, tmp_path):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(ProblemError, match=message) as raised:
        read_problems(path)
    assert "Fix" in str(raised.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ProblemError, match="not found. Fix: check the path given to --file"):
        read_problems(tmp_path / "missing.jsonl")


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_an_empty_problem_is_refused(text):
    with pytest.raises(ProblemError, match="the problem is empty"):
        check_problem(text)


def test_doctests_pass():
    assert doctest.testmod(problems_module).failed == 0
