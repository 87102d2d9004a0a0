"""Effective batch sizes: refused when larger than the data or not shared by the processes."""

from __future__ import annotations

import re

import pytest

from conftest import changed, grpo_params, tiny_params
from mathtune.training.batch_sizes import (
    BatchError,
    check_effective_batch,
    grpo_completions_per_device,
    grpo_micro_batches,
)


@pytest.mark.parametrize(
    "per_device, accumulation, processes, max_steps, examples, message",
    [
        (4, 2, 2, 10, 12, "(train.per_device_batch_size 4 x train.gradient_accumulation_steps"),
        (8, 1, 1, None, 4, "exceeds the 4 train examples"),
        # several processes reaching an epoch's end: must divide the examples
        (2, 1, 2, None, 10, "does not divide the 10 train examples"),
        (2, 1, 2, 3, 10, "train.max_steps <= 2"),
    ],
)
def test_effective_batch_that_exceeds_or_does_not_divide_the_data_is_refused(
    tiny_model_dir, per_device, accumulation, processes, max_steps, examples, message
):
    train = changed(
        tiny_params(tiny_model_dir).train,
        per_device_batch_size=per_device,
        gradient_accumulation_steps=accumulation,
        max_steps=max_steps,
    )
    with pytest.raises(BatchError, match=re.escape(message)):
        check_effective_batch(train, processes, examples)


@pytest.mark.parametrize(
    "processes, max_steps, examples",
    [
        (1, None, 10),  # one process repeats nothing: its last step is just smaller
        (2, 2, 10),  # two steps of 4 end within the first epoch
        (2, None, 12),  # 4 divides 12
    ],
)
def test_effective_batch_that_fits_the_data_passes(tiny_model_dir, processes, max_steps, examples):
    train = changed(tiny_params(tiny_model_dir).train, per_device_batch_size=2, max_steps=max_steps)
    check_effective_batch(train, processes, examples)


@pytest.mark.parametrize(
    "prompts, generations, processes, per_device",
    [
        (2, 4, 1, 8),  # one process samples the whole step
        (2, 4, 2, 4),
        (2, 4, 8, 1),  # one completion per process: groups span processes
        (3, 2, 3, 2),
    ],
)
def test_grpo_processes_share_the_completions_of_a_step(
    tiny_model_dir, prompts, generations, processes, per_device
):
    grpo = grpo_params(
        tiny_model_dir, prompts_per_step=prompts, generations_per_prompt=generations
    ).grpo
    assert grpo_completions_per_device(grpo, processes) == per_device


def test_grpo_step_that_processes_cannot_share_is_refused_naming_the_fix(tiny_model_dir):
    grpo = grpo_params(tiny_model_dir, prompts_per_step=2, generations_per_prompt=4).grpo
    with pytest.raises(BatchError) as caught:
        grpo_completions_per_device(grpo, 3)
    message = str(caught.value)
    assert "grpo.generations_per_prompt 4 = 8 completions" in message
    assert "launch.num_processes 3 cannot share equally" in message
    assert "Fix: a process count that divides 8" in message


@pytest.mark.parametrize(
    ("micro_batch", "processes", "expected"),
    [(None, 1, (8, 1)), (2, 1, (2, 4)), (1, 2, (1, 4)), (None, 2, (4, 1))],
)
def test_grpo_micro_batches_split_each_process_share(
    tiny_model_dir, micro_batch, processes, expected
):
    grpo = grpo_params(
        tiny_model_dir, prompts_per_step=2, generations_per_prompt=4, micro_batch=micro_batch
    ).grpo
    assert grpo_micro_batches(grpo, processes) == expected


def test_a_micro_batch_that_does_not_divide_the_share_names_the_fix(tiny_model_dir):
    grpo = grpo_params(
        tiny_model_dir, prompts_per_step=2, generations_per_prompt=4, micro_batch=3
    ).grpo
    with pytest.raises(BatchError, match="grpo.micro_batch 3 does not divide the 8 completions"):
        grpo_micro_batches(grpo, 1)
