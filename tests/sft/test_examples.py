"""SFT examples: the boxed target, masked prompt labels, truncation, reading a split."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import make_rows, write_rows
from mathtune.core.schema import SplitError
from mathtune.models.prompts import end_of_turn_token_id, format_prompt
from mathtune.sft.examples import IGNORE_INDEX, format_target, load_split, tokenize_examples


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        # A written solution without a box gets the answer boxed after it.
        ("$2 + 2 = 4$.", "$2 + 2 = 4$.\n\nThe final answer is $\\boxed{4}$."),
        # One that boxes its answer already is kept as it is.
        ("So $\\boxed{4}$.", "So $\\boxed{4}$."),
        # A box inside the reasoning is no final answer: one is added after it.
        (
            "<think>maybe \\boxed{4}</think> It is 4.",
            "<think>maybe \\boxed{4}</think> It is 4.\n\nThe final answer is $\\boxed{4}$.",
        ),
    ],
)
def test_target_ends_with_exactly_one_boxed_final_answer(target, expected):
    assert format_target(target, "4") == expected


def test_only_the_target_and_end_of_turn_are_learned(embedded_tokenizer):
    (example,) = tokenize_examples(embedded_tokenizer, ["What is 2 + 3?"], ["5."], ["5"], 512)
    prompt_length = len(
        embedded_tokenizer(format_prompt(embedded_tokenizer, "What is 2 + 3?"))["input_ids"]
    )
    assert example.labels[:prompt_length] == [IGNORE_INDEX] * prompt_length
    learned = example.input_ids[prompt_length:]
    assert example.labels[prompt_length:] == learned
    assert learned[-1] == end_of_turn_token_id(embedded_tokenizer)
    assert "\\boxed{5}" in embedded_tokenizer.decode(learned)
    assert not example.truncated


def test_long_examples_are_cut_from_the_right_and_flagged(embedded_tokenizer):
    (example,) = tokenize_examples(embedded_tokenizer, ["2 + 3?"], ["step " * 100], ["5"], 40)
    assert len(example.input_ids) == len(example.labels) == 40
    assert example.truncated


def test_load_split_counts_truncated_and_dropped_examples(embedded_tokenizer, tmp_path):
    rows = make_rows(3)
    rows[1]["target"] = "step " * 200  # cut at max_length: kept, counted as truncated
    rows[2]["problem"] = "long " * 200  # prompt alone fills max_length: no target token left
    split = load_split(write_rows(tmp_path / "t.parquet", rows), embedded_tokenizer, 100)
    assert (len(split.features), split.truncated, split.dropped) == (2, 1, 1)
    assert all(len(feature["input_ids"]) <= 100 for feature in split.features)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (pa.table({"problem": ["1+1"], "answer": ["2"]}), "missing \\['target'\\]"),
        (None, "Fix: run the prepare stage"),  # no file at all
    ],
)
def test_load_split_names_the_problem_and_the_fix(embedded_tokenizer, tmp_path, table, message):
    path = tmp_path / "split.parquet"
    if table is not None:
        pq.write_table(table, path)
    with pytest.raises(SplitError, match=message):
        load_split(path, embedded_tokenizer, 128)
