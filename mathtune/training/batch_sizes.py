"""The effective batch of a run over one or many processes, and the rule it must satisfy.

Each optimizer step consumes per_device_batch_size x gradient_accumulation_steps examples on
each of launch.num_processes processes. The train stage records this number
(`train/effective_batch`) and checks it against the train split before anything loads.

A GRPO step takes grpo.prompts_per_step x grpo.generations_per_prompt completions however
many processes share it: each process samples and trains on an equal part of them.
"""

from __future__ import annotations

from mathtune.core.errors import MathtuneError
from mathtune.core.params import GrpoParams, TrainParams


class BatchError(MathtuneError):
    """The effective batch does not fit the data; the message says the fix."""


def effective_batch(train: TrainParams, processes: int) -> int:
    """Examples per optimizer step: per device x accumulation x processes."""
    return train.per_device_batch_size * train.gradient_accumulation_steps * processes


def check_effective_batch(
    train: TrainParams, processes: int, examples: int, unit: str = "train examples"
) -> None:
    """Refuse a batch larger than the data, or one that would make ranks repeat examples.

    With several processes, accelerate evens out an epoch's last batches by repeating the
    first examples on some ranks. So a run that reaches the end of an epoch needs a number
    of examples that the effective batch divides; a run stopped by max_steps before that
    point needs only enough examples for its steps. One process repeats nothing (its last
    step is just smaller), so it is only held to the first rule. `unit` names what is
    counted: examples, or packs of them (train.batch_tokens).
    """
    batch = effective_batch(train, processes)
    sizes = (
        f"train.per_device_batch_size {train.per_device_batch_size} x "
        f"train.gradient_accumulation_steps {train.gradient_accumulation_steps} x "
        f"launch.num_processes {processes}"
    )
    if batch > examples:
        raise BatchError(
            f"The effective batch ({sizes} = {batch}) exceeds the {examples} {unit}. "
            "Fix: lower one of those params, or prepare more rows (prepare.max_rows)."
        )
    reaches_epoch_end = train.max_steps is None or train.max_steps * batch > examples
    if processes > 1 and reaches_epoch_end and examples % batch:
        raise BatchError(
            f"The effective batch ({sizes} = {batch}) does not divide the {examples} {unit}, "
            "so some ranks would repeat examples to fill the last step. Fix: batch "
            f"params whose product divides {examples}, or train.max_steps <= {examples // batch} "
            "(the run then ends within the first epoch)."
        )


def grpo_completions_per_device(grpo: GrpoParams, processes: int) -> int:
    """Completions each process samples per GRPO step, so that the step's total stays
    prompts_per_step x generations_per_prompt whatever the process count.

    Refused when the processes cannot share the completions equally: each would otherwise
    train on a different effective batch than one process does.
    """
    completions = grpo.prompts_per_step * grpo.generations_per_prompt
    if completions % processes:
        raise BatchError(
            f"A GRPO step samples grpo.prompts_per_step {grpo.prompts_per_step} x "
            f"grpo.generations_per_prompt {grpo.generations_per_prompt} = {completions} "
            f"completions, which launch.num_processes {processes} cannot share equally. Fix: "
            f"a process count that divides {completions}, or prompts_per_step x "
            f"generations_per_prompt a multiple of {processes}."
        )
    return completions // processes


def grpo_micro_batches(grpo: GrpoParams, processes: int) -> tuple[int, int]:
    """(completions per forward/backward pass, passes per step) on each process.

    A step's completions are generated in one call whatever the passes: TRL generates once
    every `steps_per_generation` passes, which the GRPO config sets to the passes.
    """
    share = grpo_completions_per_device(grpo, processes)
    micro = grpo.micro_batch or share
    if share % micro:
        raise BatchError(
            f"grpo.micro_batch {micro} does not divide the {share} completions each of "
            f"launch.num_processes {processes} trains on per step. Fix: a divisor of {share}, "
            "or null (the whole share in one pass)."
        )
    return micro, share // micro
