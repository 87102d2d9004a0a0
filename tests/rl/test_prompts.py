"""GRPO prompts: gradable rows only, the SFT chat format, and the solve-rate filter."""

from __future__ import annotations

import pytest

from conftest import make_rows, model_params, write_rows
from mathtune.core.params import PromptFilterParams
from mathtune.core.schema import SplitError
from mathtune.models.loading import load_base_model, load_tokenizer, locate_model
from mathtune.models.prompts import build_messages
from mathtune.rl.prompts import filter_prompts, read_prompts


def test_prompts_are_the_sft_messages_with_their_answers(tmp_path):
    rows = make_rows(3)
    prompts = read_prompts(write_rows(tmp_path / "train.parquet", rows))
    assert prompts.dataset["prompt"] == [build_messages(row["problem"]) for row in rows]
    assert prompts.dataset["answer"] == [row["answer"] for row in rows]
    assert prompts.ungradable == 0


def test_rows_marked_ungradable_or_without_answer_are_left_out(tmp_path):
    rows = [row | {"gradable": index != 1} for index, row in enumerate(make_rows(4))]
    rows[2]["answer"] = " "
    prompts = read_prompts(write_rows(tmp_path / "train.parquet", rows))
    assert prompts.dataset["answer"] == [rows[0]["answer"], rows[3]["answer"]]
    assert prompts.ungradable == 2


def test_a_split_without_gradable_rows_is_refused(tmp_path):
    rows = [row | {"gradable": False} for row in make_rows(2)]
    with pytest.raises(SplitError, match="no row with a gradable answer"):
        read_prompts(write_rows(tmp_path / "train.parquet", rows))


def answer_parity_accuracy(completions: list[str], answer: list[str], **kwargs) -> list[float]:
    """A stand-in grader with a known solve rate: odd answers are solved by every other
    completion, answers divisible by 4 always, the rest never (random tiny models never
    answer right, so the real accuracy reward would only exercise the "never" case)."""
    scores = []
    for index, gold in enumerate(answer):
        value = int(gold)
        scores.append(float(value % 4 == 0 or (value % 2 == 1 and index % 2 == 0)))
    return scores


def test_filter_keeps_prompts_solved_sometimes_but_not_always(tiny_model_dir, tmp_path):
    answers = ["3", "4", "6", "7"]
    rows = [row | {"answer": answer} for row, answer in zip(make_rows(4), answers, strict=True)]
    prompts = read_prompts(write_rows(tmp_path / "train.parquet", rows))
    location = locate_model(model_params(source="local", local_dir=str(tiny_model_dir)))
    tokenizer = load_tokenizer(location)
    settings = PromptFilterParams(enabled=True, samples=2, max_prompts=4)
    sampling = {"max_new_tokens": 4, "temperature": 1.0, "eos_token_id": tokenizer.eos_token_id}
    model = load_base_model(location)
    kept = filter_prompts(
        prompts, model, tokenizer, settings, sampling, answer_parity_accuracy, seed=0
    )
    assert kept.dataset["answer"] == ["3", "7"]
    assert (kept.screened, kept.filtered_out) == (4, 2)
    assert tokenizer.padding_side == load_tokenizer(location).padding_side  # left untouched


def test_filter_that_keeps_nothing_names_the_fix(tiny_model_dir, tmp_path):
    rows = [row | {"answer": "6"} for row in make_rows(2)]
    prompts = read_prompts(write_rows(tmp_path / "train.parquet", rows))
    location = locate_model(model_params(source="local", local_dir=str(tiny_model_dir)))
    tokenizer = load_tokenizer(location)
    settings = PromptFilterParams(enabled=True, samples=2, max_prompts=8)
    sampling = {"max_new_tokens": 2, "temperature": 1.0, "eos_token_id": tokenizer.eos_token_id}
    with pytest.raises(SplitError, match="grpo.filter.enabled: false"):
        filter_prompts(
            prompts,
            load_base_model(location),
            tokenizer,
            settings,
            sampling,
            answer_parity_accuracy,
            seed=0,
        )
