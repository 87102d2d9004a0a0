"""Padding-free batches give the same logits and loss as one sequence at a time."""

from __future__ import annotations

import doctest

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from test_training import make_rows, write_split
from transformers import AutoModelForCausalLM, Qwen2Config, Qwen2ForCausalLM

import mathtune.packing
from mathtune.packing import (
    SEGMENT_ATTENTION,
    PaddedCollator,
    build_collator,
    load_split,
)
from mathtune.prompts import IGNORE_INDEX, end_of_turn_token_id, tokenize_examples
from mathtune.schema import SplitError

PROBLEMS = ["What is 2 + 3?", "Tom has 7 apples and eats 2. How many are left?", "Compute 9 * 9."]
TARGETS = ["$2 + 3 = 5$.", "He has $7 - 2 = 5$ apples left.", "$9 \\cdot 9 = 81$, so 81."]
ANSWERS = ["5", "5", "81"]


@pytest.fixture(scope="module")
def features(embedded_tokenizer) -> list[dict[str, list[int]]]:
    examples = tokenize_examples(embedded_tokenizer, PROBLEMS, TARGETS, ANSWERS, max_length=512)
    return [{"input_ids": ex.input_ids, "labels": ex.labels} for ex in examples]


@pytest.fixture(scope="module")
def tiny_qwen2(embedded_tokenizer):
    # The real configuration's architecture (Qwen2: biased q/k/v projections), random weights.
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=len(embedded_tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
    )
    return Qwen2ForCausalLM(config)


@pytest.fixture(scope="module")
def tiny_llama(tiny_model_dir):
    return AutoModelForCausalLM.from_pretrained(tiny_model_dir)


def test_doctests_pass():
    assert doctest.testmod(mathtune.packing).failed == 0


@pytest.mark.parametrize("attention", ["sdpa", SEGMENT_ATTENTION])
@pytest.mark.parametrize("architecture", ["tiny_llama", "tiny_qwen2"])
def test_flattened_batch_matches_per_sequence_runs(architecture, attention, features, request):
    model = request.getfixturevalue(architecture).eval()
    model.set_attn_implementation(attention)
    model.config.use_cache = False  # with a cache, sdpa would not split at position resets
    batch = build_collator(pad_token_id=0, padding_free=True)(features)
    with torch.no_grad():
        packed = model(**batch)
        model.set_attn_implementation("sdpa")
        singles = [model(**_as_batch(feature)) for feature in features]
    starts = torch.cumsum(torch.tensor([0] + [len(f["input_ids"]) for f in features]), 0)
    for index, single in enumerate(singles):
        segment = packed.logits[0, starts[index] : starts[index + 1]]
        torch.testing.assert_close(segment, single.logits[0], atol=1e-5, rtol=1e-5)
    # The batch loss is the mean over all target tokens, so weight each run by its token count.
    counts = [sum(label != IGNORE_INDEX for label in f["labels"][1:]) for f in features]
    expected = sum(s.loss * n for s, n in zip(singles, counts, strict=True)) / sum(counts)
    torch.testing.assert_close(packed.loss, expected, atol=1e-5, rtol=1e-5)


def test_segment_attention_gets_gradients_like_per_sequence_runs(tiny_llama, features):
    tiny_llama.config.use_cache = False
    weight = tiny_llama.model.layers[0].self_attn.q_proj.weight
    gradients = []
    for attention, collate in ((SEGMENT_ATTENTION, True), ("sdpa", False)):
        tiny_llama.set_attn_implementation(attention)
        tiny_llama.zero_grad()
        tiny_llama(**build_collator(pad_token_id=0, padding_free=collate)(features)).loss.backward()
        gradients.append(weight.grad.clone())
    torch.testing.assert_close(gradients[0], gradients[1], atol=1e-6, rtol=1e-4)


def test_padded_batch_gives_the_flattened_loss(tiny_llama, features):
    tiny_llama.config.use_cache = False
    with torch.no_grad():
        padded = tiny_llama(**build_collator(pad_token_id=0, padding_free=False)(features))
        packed = tiny_llama(**build_collator(pad_token_id=0, padding_free=True)(features))
    torch.testing.assert_close(padded.loss, packed.loss, atol=1e-5, rtol=1e-5)


def test_end_of_turn_token_stays_in_the_loss_although_it_is_the_pad_token(
    embedded_tokenizer, features
):
    end_of_turn = end_of_turn_token_id(embedded_tokenizer)
    assert end_of_turn == embedded_tokenizer.pad_token_id  # SmolLM2: pad = eos = <|im_end|>
    for padding_free in (True, False):
        collate = build_collator(embedded_tokenizer.pad_token_id, padding_free)
        labels = collate(features)["labels"]
        assert int((labels == end_of_turn).sum()) == len(features), padding_free


def test_padded_collator_pads_on_the_right_and_masks_pads_by_position():
    batch = PaddedCollator(pad_token_id=9)(
        [{"input_ids": [1, 9], "labels": [-100, 9]}, {"input_ids": [3], "labels": [3]}]
    )
    assert batch["input_ids"].tolist() == [[1, 9], [3, 9]]
    assert batch["labels"].tolist() == [[-100, 9], [3, -100]]  # a real 9 is learned, a pad not
    assert batch["attention_mask"].tolist() == [[1, 1], [1, 0]]


def test_load_split_counts_truncated_and_dropped_examples(embedded_tokenizer, tmp_path):
    rows = make_rows(3)
    rows[1]["target"] = "step " * 200  # cut at max_length: kept, counted as truncated
    rows[2]["problem"] = "long " * 200  # prompt alone fills max_length: no target token left
    split = load_split(write_split(tmp_path / "t.parquet", rows), embedded_tokenizer, 100)
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


def _as_batch(feature: dict[str, list[int]]) -> dict[str, torch.Tensor]:
    return {key: torch.tensor([value]) for key, value in feature.items()}
