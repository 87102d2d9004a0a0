"""LoRA fine-tuning with the Hugging Face Trainer: data, arguments, callbacks and the run.

`check_training` validates params in seconds, before anything heavy loads; `train_adapter`
is then the rest of the train stage minus file writing: it tokenizes the splits, trains
with padding-free batches, resumes from a matching checkpoint after a killed run, and saves
the adapter atomically:

    models/adapter/  adapter_model.safetensors, adapter_config.json, tokenizer files

Metrics come from the Trainer's log history (restored on resume), so an interrupted and an
uninterrupted run report the same numbers; only the `*runtime_s` and `*_per_s` keys
measure wall-clock time. The callback that logs them and the loss curve are in
`metrics.py`.
"""

from __future__ import annotations

import importlib.util
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import torch
from transformers import Trainer, TrainerCallback, TrainerState, TrainingArguments, set_seed

from mathtune.core import distributed
from mathtune.core.params import Params, TrainParams
from mathtune.core.tracking import DisabledRun, TrackingRun
from mathtune.models.loading import (
    add_lora_adapter,
    check_target_modules,
    load_base_model,
    load_tokenizer,
    locate_model,
    resolve_dtype,
)
from mathtune.sft.attention import choose_attention, use_attention
from mathtune.sft.batches import Features, build_collator, pack_by_tokens, token_count_mode
from mathtune.sft.examples import TokenizedSplit, load_split
from mathtune.sft.metrics import MetricsCallback, loss_curve_rows
from mathtune.training.adapters import save_adapter
from mathtune.training.batch_sizes import check_effective_batch, effective_batch
from mathtune.training.checkpoints import compute_fingerprint, prepare_checkpoint_dir
from mathtune.training.trainer_options import (
    TrainingError,
    TrainingSetup,
    precision_flags,
    trainer_options,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainPaths:
    train: Path
    validation: Path
    adapter_dir: Path
    checkpoint_dir: Path

    @property
    def splits(self) -> tuple[Path, Path]:
        return self.train, self.validation


@dataclass(frozen=True)
class TrainResult:
    metrics: dict[str, float]  # the train stage's DVC metrics
    loss_curve: list[dict[str, float | None]]  # rows of step, train_loss, eval_loss


def check_gpu_options(train: TrainParams) -> None:
    """Fail early when GPU-only options are on without a GPU or their package."""
    if not train.liger_kernel:
        return
    if importlib.util.find_spec("liger_kernel") is None:
        raise TrainingError(
            "train.liger_kernel = true but liger-kernel is not installed. "
            "Fix: `make setup-gpu` (requirements-gpu.txt, GPU machines) or set "
            "train.liger_kernel: false."
        )
    if not torch.cuda.is_available():
        raise TrainingError(
            "train.liger_kernel = true needs a CUDA GPU (its kernels are Triton). "
            "Fix: set train.liger_kernel: false on CPU."
        )


def optimizer_steps(train: TrainParams, train_examples: int) -> int:
    """Optimizer steps of the whole run: `max_steps`, or `epochs` over the examples.

    Counted as the Trainer counts them: a last partial batch or accumulation still steps.
    """
    if train.max_steps is not None:
        return train.max_steps
    batch = train.per_device_batch_size * distributed.world_size()
    batches = math.ceil(train_examples / batch)
    return math.ceil(train.epochs * math.ceil(batches / train.gradient_accumulation_steps))


def parquet_rows(path: Path) -> int:
    """Rows of a Parquet file, read from its footer."""
    try:
        return pq.ParquetFile(path).metadata.num_rows
    except OSError as err:
        raise TrainingError(f"Cannot read {path}: {err}. Fix: run `dvc repro prepare`.") from err


def build_training_arguments(
    train: TrainParams, precision: dict[str, bool], output_dir: Path, train_examples: int
) -> TrainingArguments:
    """TrainingArguments from params; checkpoints go to `output_dir`, integrations stay off."""
    warmup_steps = math.ceil(train.warmup_ratio * optimizer_steps(train, train_examples))
    return TrainingArguments(
        output_dir=str(output_dir),
        seed=train.seed,
        data_seed=train.seed,
        learning_rate=train.lr,
        num_train_epochs=train.epochs,
        max_steps=train.max_steps if train.max_steps is not None else -1,
        per_device_train_batch_size=train.per_device_batch_size,
        per_device_eval_batch_size=train.per_device_batch_size,
        gradient_accumulation_steps=train.gradient_accumulation_steps,
        warmup_steps=warmup_steps,
        lr_scheduler_type=train.lr_scheduler,
        weight_decay=train.weight_decay,
        max_grad_norm=train.max_grad_norm,
        activation_checkpointing=train.gradient_checkpointing,
        # Non-reentrant checkpointing needs no input gradients, which a LoRA model lacks.
        activation_checkpointing_kwargs={"use_reentrant": False},
        use_liger_kernel=train.liger_kernel,
        eval_strategy="steps",
        eval_steps=train.eval_steps,
        include_num_input_tokens_seen=token_count_mode(train.padding_free),
        remove_unused_columns=False,
        **trainer_options(train.logging_steps, train.save_steps, precision),
    )


def check_training(params: Params, train_rows: int | None = None) -> TrainingSetup:
    """The model to train, once every check that needs no weights or data has passed.

    It takes seconds, so the train stage runs it before it starts a W&B run or loads anything.
    `train_rows` (the train split's row count) also checks the effective batch.
    """
    location = locate_model(params.model)
    check_target_modules(location, params.train.lora.target_modules)
    check_gpu_options(params.train)
    choose_attention(params.train.attention, params.train.padding_free)
    precision = precision_flags(resolve_dtype(params.model.precision))
    # Packs by token budget are counted once the examples are tokenized (train_adapter).
    if train_rows is not None and params.train.batch_tokens is None:
        check_effective_batch(params.train, distributed.world_size(), train_rows)
    return TrainingSetup(location, precision)


def train_adapter(
    params: Params,
    setup: TrainingSetup,
    paths: TrainPaths,
    tracking: TrackingRun | None = None,
    extra_callbacks: list[TrainerCallback] | None = None,
) -> TrainResult:
    """Train a LoRA adapter on the model check_training set up into `paths.adapter_dir`.

    A checkpoint of a killed run with the same params, data and code is resumed.
    """
    location = setup.location
    tokenizer = load_tokenizer(location)
    splits = [load_split(path, tokenizer, params.train.max_length) for path in paths.splits]
    train_items, eval_items = (batch_items(split.features, params.train) for split in splits)
    processes = distributed.world_size()
    unit = "train examples" if params.train.batch_tokens is None else "packs of train examples"
    check_effective_batch(params.train, processes, len(train_items), unit)
    batch = effective_batch(params.train, processes)
    logger.info(
        "%s: effective batch %d = %d per device x %d accumulation x %d processes (%s)",
        distributed.describe(),
        *(batch, params.train.per_device_batch_size, params.train.gradient_accumulation_steps),
        *(processes, unit),
    )
    arguments = build_training_arguments(
        params.train, setup.precision, paths.checkpoint_dir, len(train_items)
    )
    set_seed(params.train.seed)  # the LoRA weights' random initialisation
    model = add_lora_adapter(load_base_model(location), params.train.lora)
    model.config.use_cache = False  # training needs none; with one, packing would be unsafe
    use_attention(model, params.train.attention, params.train.padding_free)
    fingerprint = compute_fingerprint(
        {"model": params.model, "train": params.train},
        list(paths.splits),
        code=__name__,
        processes=processes,
    )
    # One rank clears or keeps the folder while the others wait, then all resume from the
    # checkpoint it chose.
    resume = distributed.run_on_writers(
        lambda: prepare_checkpoint_dir(paths.checkpoint_dir, fingerprint)
    )
    metrics_callback = MetricsCallback(tracking or DisabledRun())
    trainer = Trainer(
        model=model,
        args=arguments,
        data_collator=build_collator(
            tokenizer.pad_token_id,
            params.train.padding_free,
            packed=params.train.batch_tokens is not None,
        ),
        train_dataset=train_items,
        eval_dataset=eval_items,
        callbacks=[metrics_callback, *(extra_callbacks or [])],
    )
    output = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    # Every rank takes part in gathering the weights (FSDP and ZeRO-3 shard them).
    state_dict = trainer.accelerator.get_state_dict(trainer.model)
    if distributed.writes_files():
        save_adapter(model, tokenizer, location, paths.adapter_dir, state_dict)
    distributed.barrier()  # no rank reports success before the adapter is in place
    metrics = summarize_training(trainer.state, splits[0], splits[1])
    metrics["train/effective_batch"] = batch
    metrics["train/processes"] = processes
    metrics["train/runtime_s"] = round(output.metrics["train_runtime"], 3)
    metrics["train/real_tokens_per_s"] = round(metrics_callback.real_tokens_per_s, 1)
    return TrainResult(metrics, loss_curve_rows(trainer.state.log_history))


def batch_items(features: Features, train: TrainParams) -> Features:
    """What the Trainer batches: the examples, or packs of them up to train.batch_tokens."""
    if train.batch_tokens is None:
        return features
    return pack_by_tokens(features, train.batch_tokens, train.seed)


def summarize_training(
    state: TrainerState, train: TokenizedSplit, validation: TokenizedSplit
) -> dict[str, float]:
    """Final train and eval loss, progress and data counts; no wall-clock values."""
    train_logs = [entry for entry in state.log_history if "loss" in entry]
    eval_logs = [entry for entry in state.log_history if "eval_loss" in entry]
    if not train_logs or not eval_logs:
        raise TrainingError(f"Training logged no loss after {state.global_step} steps.")
    return {
        "train/loss": train_logs[-1]["loss"],
        "eval/loss": eval_logs[-1]["eval_loss"],
        "train/steps": state.global_step,
        "train/epochs": round(state.epoch or 0.0, 4),
        "train/tokens_seen": state.num_input_tokens_seen,
        "train/examples": len(train.features),
        "train/truncated_examples": train.truncated,
        "train/dropped_examples": train.dropped,
        "eval/examples": len(validation.features),
        "eval/truncated_examples": validation.truncated,
        "eval/dropped_examples": validation.dropped,
    }
