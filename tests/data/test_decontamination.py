import doctest
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mathtune.data.decontamination
from mathtune.data.decontamination import (
    NgramIndex,
    normalize_text,
    read_problem_texts,
    word_ngrams,
)
from mathtune.data.examples import DataError

PROBLEM = "Natalia sold clips to 48 of her friends in April, and then she sold half as many in May."


def test_doctests_pass():
    assert doctest.testmod(mathtune.data.decontamination).failed == 0


@pytest.mark.parametrize(
    ("text", "overlaps"),
    [
        (PROBLEM, True),
        (PROBLEM.upper().replace(" ", "\n  "), True),  # case and white space do not hide it
        ("Intro words. " + " ".join(PROBLEM.split()[3:11]) + " ...", True),  # 8 words suffice
        (" ".join(PROBLEM.split()[3:10]), False),  # 7 shared words do not
        ("Natalia sold clips to 49 of her friends in April.", False),  # one word differs
    ],
)
def test_a_shared_word_8gram_is_an_overlap(text, overlaps):
    index = NgramIndex(8)
    index.add(PROBLEM)
    assert index.overlaps(text) is overlaps


def test_short_texts_have_no_ngrams():
    assert word_ngrams("one two three", 8) == set()
    assert normalize_text("A\tB  c") == "a b c"


def test_problem_texts_come_from_problem_or_question_columns(tmp_path):
    parquet = tmp_path / "math500.parquet"
    pq.write_table(pa.table({"problem": ["p1", None, "p2"], "level": [1, 2, 3]}), parquet)
    jsonl = tmp_path / "gsm8k.jsonl"
    jsonl.write_text("\n".join(json.dumps({"question": q, "answer": "1"}) for q in ("q1", "q2")))
    assert read_problem_texts(parquet) == ["p1", "p2"]
    assert read_problem_texts(jsonl) == ["q1", "q2"]


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("absent.jsonl", None, ["absent.jsonl", "not found"]),
        ("bench.csv", "problem\n1+1\n", ["'.csv'", "Parquet or JSON Lines"]),
        ("bench.jsonl", '{"text": "1+1"}\n', ["['text']", "neither 'problem' nor 'question'"]),
    ],
)
def test_unreadable_benchmark_files_are_errors_that_say_the_fix(tmp_path, name, content, words):
    if content is not None:
        (tmp_path / name).write_text(content)
    with pytest.raises(DataError) as caught:
        read_problem_texts(tmp_path / name)
    for word in words:
        assert word in str(caught.value)
