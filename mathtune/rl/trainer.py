"""Reinforcement learning after SFT: GRPO on the project's reward functions (TRL GRPOTrainer).

The SFT adapter is loaded as a trainable PeftModel on its base model and trained further on
gradable train-split problems, in the chat format SFT and evaluation use. Each step samples
`grpo.generations_per_prompt` completions for `grpo.prompts_per_step` problems, scores them
with the rewards named in `grpo.rewards` (weighted), and moves the policy towards the
completions that beat their group's mean. The result is saved like the SFT adapter:

    models/grpo_adapter/  adapter_model.safetensors, adapter_config.json, tokenizer files

`check_grpo` (mathtune/rl/setup.py) validates everything that needs no weights in
seconds; `train_grpo` is the rest. With `grpo.enabled: false`, `copy_sft_adapter` writes the
SFT adapter unchanged instead. A checkpoint of a killed run with the same params, data, SFT
adapter and code is resumed. Under several processes each samples and trains on an equal
share of every step's completions, and the writing process alone saves.
"""

from __future__ import annotations

import copy
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peft import PeftModel
from transformers import TrainerCallback
from transformers.tokenization_utils_base import PreTrainedTokenizerBase
from trl import GRPOConfig, GRPOTrainer

from mathtune.core import distributed
from mathtune.core.io import atomic_path
from mathtune.core.params import GrpoParams, Params
from mathtune.core.tracking import DisabledRun, TrackingRun
from mathtune.grading.rewards import RewardFunction, completion_text
from mathtune.models.loading import (
    ADAPTER_FILES,
    ModelLocation,
    load_adapter,
    load_base_model,
    load_tokenizer,
)
from mathtune.models.prompts import CHATML_TEMPLATE, end_of_turn_token_id
from mathtune.rl.metrics import (
    GrpoMetricsCallback,
    completion_rows,
    grader_failures,
    reward_curve_rows,
    summarize_rewards,
)
from mathtune.rl.prompts import PromptSet, filter_prompts, read_prompts
from mathtune.rl.setup import GrpoPaths, GrpoSetup
from mathtune.training.adapters import save_adapter
from mathtune.training.batch_sizes import grpo_micro_batches
from mathtune.training.checkpoints import compute_fingerprint, prepare_checkpoint_dir
from mathtune.training.trainer_options import trainer_options

logger = logging.getLogger(__name__)

REFERENCE_ADAPTER = "ref"  # the frozen copy TRL adds to a PeftModel when beta > 0


@dataclass(frozen=True)
class GrpoResult:
    metrics: dict[str, float]  # the grpo stage's DVC metrics
    reward_curve: list[dict[str, float]]  # rows of step, one column per reward, total
    reward_names: list[str]  # registry names, in params order
    completions: tuple[list[str], list[list[Any]]]  # W&B table: columns, rows


def copy_sft_adapter(paths: GrpoPaths) -> None:
    """RL off: the GRPO adapter is the SFT adapter, byte for byte."""
    with atomic_path(paths.adapter_dir) as temporary:
        shutil.copytree(paths.sft_adapter_dir, temporary)


def build_grpo_config(
    grpo: GrpoParams, precision: dict[str, bool], output_dir: Path, processes: int
) -> GRPOConfig:
    """GRPOConfig from params: one generation batch per optimizer step, integrations off.

    TRL samples `per_device_train_batch_size x processes x steps_per_generation`
    completions at once (its generation batch) and its RepeatSampler deals each process a
    different part of the step's prompt groups. The per-device share is split into
    `passes` micro-batches of gradient accumulation, and steps_per_generation = passes, so
    each process generates its whole share in one batched call and the step's total stays
    as in params.
    """
    micro_batch, passes = grpo_micro_batches(grpo, processes)
    return GRPOConfig(
        output_dir=str(output_dir),
        seed=grpo.seed,
        data_seed=grpo.seed,
        learning_rate=grpo.lr,
        lr_scheduler_type=grpo.lr_scheduler,
        max_steps=grpo.steps,
        # TRL counts the batch in completions: one step = prompts_per_step whole groups.
        per_device_train_batch_size=micro_batch,
        gradient_accumulation_steps=passes,
        steps_per_generation=passes,
        num_generations=grpo.generations_per_prompt,
        max_completion_length=grpo.max_completion_length,
        temperature=grpo.temperature,
        top_p=1.0,
        top_k=0,
        beta=grpo.beta,
        loss_type=grpo.loss_type,
        epsilon=grpo.epsilon,
        mask_truncated_completions=grpo.mask_truncated_completions,
        reward_weights=list(grpo.rewards.values()),
        use_vllm=grpo.backend == "vllm",
        vllm_mode="colocate",
        gradient_checkpointing=grpo.gradient_checkpointing,
        log_completions=True,  # Parquet per logged step under output_dir: the W&B table
        num_completions_to_print=1,
        **trainer_options(grpo.logging_steps, grpo.save_steps, precision),
    )


def load_policy(
    location: ModelLocation, sft_adapter_dir: Path, tokenizer: PreTrainedTokenizerBase
) -> PeftModel:
    """Base model + SFT adapter, trainable; generation stops at the end of the assistant turn."""
    model = load_adapter(load_base_model(location), sft_adapter_dir, location, trainable=True)
    # eos and the chat template's end-of-turn token differ for Qwen2.5 base: stop on both.
    model.generation_config.eos_token_id = sorted(
        {tokenizer.eos_token_id, end_of_turn_token_id(tokenizer)}
    )
    return model


def train_grpo(
    params: Params,
    setup: GrpoSetup,
    paths: GrpoPaths,
    tracking: TrackingRun | None = None,
    extra_callbacks: list[TrainerCallback] | None = None,
) -> GrpoResult:
    """Train the SFT adapter further with GRPO into `paths.adapter_dir`.

    Under several processes every rank runs this; the writing process alone saves.
    """
    grpo, processes = params.grpo, distributed.world_size()
    config = build_grpo_config(grpo, setup.precision, paths.checkpoint_dir, processes)
    completions = log_effective_batch(grpo, processes)
    tokenizer = load_tokenizer(setup.location)
    model = load_policy(setup.location, paths.sft_adapter_dir, tokenizer)
    prompts = choose_prompts(params, paths.train, model, tokenizer, setup.rewards["accuracy"])
    adapter_files = [paths.sft_adapter_dir / name for name in ADAPTER_FILES]
    fingerprint = compute_fingerprint(
        {"model": params.model, "grpo": grpo},
        [paths.train, *adapter_files],
        code=__name__,
        processes=processes,
    )
    # One rank clears or keeps the folder while the others wait, then all resume from the
    # checkpoint it chose.
    resume = distributed.run_on_writers(
        lambda: prepare_checkpoint_dir(paths.checkpoint_dir, fingerprint)
    )
    callback = GrpoMetricsCallback(tracking or DisabledRun(), completions)
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=list(setup.rewards.values()),
        args=config,
        train_dataset=prompts.dataset,
        processing_class=chat_tokenizer(tokenizer),
        callbacks=[callback, *(extra_callbacks or [])],
    )
    trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    save_policy(trainer, model, tokenizer, setup.location, paths.adapter_dir)
    names = {function.__name__: name for name, function in setup.rewards.items()}
    history = trainer.state.log_history
    metrics = {"grpo/enabled": 1, "grpo/steps": trainer.state.global_step}
    metrics |= {"grpo/effective_batch": completions, "grpo/processes": processes}
    metrics |= prompt_counts(prompts) | summarize_rewards(history, names, grpo.summary_steps)
    metrics |= grader_failures(history, grpo.logging_steps)
    metrics |= speed_metrics(callback)
    # TRL writes the completion files on the main process, whose W&B run alone logs them.
    logged = grpo.logged_completions if distributed.is_main() else 0
    table = completion_rows(paths.checkpoint_dir / "completions", names, logged, completion_text)
    return GrpoResult(metrics, reward_curve_rows(history, names), list(grpo.rewards), table)


def log_effective_batch(grpo: GrpoParams, processes: int) -> int:
    """Log, and return, the completions of one step: the same for any process count."""
    micro_batch, passes = grpo_micro_batches(grpo, processes)
    completions = micro_batch * passes * processes
    logger.info(
        "%s: effective batch %d completions = %d prompts x %d generations "
        "(%d per process, generated in one call, trained in %d passes of %d; %d processes)",
        *(distributed.describe(), completions, grpo.prompts_per_step),
        *(grpo.generations_per_prompt, micro_batch * passes, passes, micro_batch, processes),
    )
    return completions


def save_policy(
    trainer: GRPOTrainer,
    model: PeftModel,
    tokenizer: PreTrainedTokenizerBase,
    location: ModelLocation,
    adapter_dir: Path,
) -> None:
    """The policy adapter alone (not TRL's reference copy), written by the writing process."""
    if REFERENCE_ADAPTER in model.peft_config:
        model.delete_adapter(REFERENCE_ADAPTER)
    # Every rank takes part in gathering the weights (FSDP and ZeRO-3 shard them).
    state_dict = trainer.accelerator.get_state_dict(trainer.model)
    if distributed.writes_files():
        save_adapter(model, tokenizer, location, adapter_dir, state_dict)
    distributed.barrier()  # no rank reports success before the adapter is in place


def speed_metrics(callback: GrpoMetricsCallback) -> dict[str, float]:
    """Wall-clock figures of this session's steps (a resumed run counts its own steps only)."""
    return {
        "grpo/runtime_s": round(callback.seconds, 3),
        "grpo/s_per_step": round(callback.seconds / max(callback.session_steps, 1), 3),
        "grpo/completions_per_s": round(callback.completions_per_s, 3),
    }


def choose_prompts(
    params: Params,
    train: Path,
    model: PeftModel,
    tokenizer: PreTrainedTokenizerBase,
    accuracy: RewardFunction,
) -> PromptSet:
    """Gradable train prompts, screened by the SFT model's solve rate when the filter is on."""
    prompts = read_prompts(train)
    if not params.grpo.filter.enabled:
        return prompts
    sampling = {
        "max_new_tokens": params.grpo.max_completion_length,
        "temperature": params.grpo.temperature,
        "eos_token_id": model.generation_config.eos_token_id,
    }
    shuffled = PromptSet(prompts.dataset.shuffle(seed=params.grpo.seed), prompts.ungradable, 0, 0)
    # The Trainer moves the model to the GPU only later; screening there is much faster.
    model.to(distributed.device())
    # Seeded: a resumed run must screen, hence keep, the same prompts.
    return filter_prompts(
        shuffled, model, tokenizer, params.grpo.filter, sampling, accuracy, params.grpo.seed
    )


def prompt_counts(prompts: PromptSet) -> dict[str, int]:
    return {
        "grpo/prompts": len(prompts.dataset),
        "grpo/ungradable_skipped": prompts.ungradable,
        "grpo/filter/screened": prompts.screened,
        "grpo/filter/dropped": prompts.filtered_out,
    }


def chat_tokenizer(tokenizer: PreTrainedTokenizerBase) -> PreTrainedTokenizerBase:
    """A copy that renders prompts as `format_prompt` does, for tokenizers without a template.

    A copy, so that the tokenizer saved with the adapter stays as SFT saved it.
    """
    rendering = copy.deepcopy(tokenizer)
    rendering.chat_template = tokenizer.chat_template or CHATML_TEMPLATE
    return rendering


def disabled_metrics() -> dict[str, int]:
    """metrics/grpo.json when grpo.enabled is false: nothing was trained."""
    return {"grpo/enabled": 0, "grpo/steps": 0}
