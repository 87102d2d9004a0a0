"""What the SFT and GRPO trainers share: the resolved model and precision, and the Trainer
arguments every trainer of this project sets the same way.

`TrainingSetup` is what a stage's checks resolve in seconds, before anything heavy loads;
`trainer_options` is the part of TrainingArguments (and of TRL's GRPOConfig, a subclass)
that does not depend on the step: logging and checkpoint cadence, processes, device,
precision, integrations off.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mathtune.core import distributed
from mathtune.core.errors import MathtuneError
from mathtune.models.loading import ModelLocation


class TrainingError(MathtuneError):
    """Training cannot start with these params or data; the message says the fix."""


@dataclass(frozen=True)
class TrainingSetup:
    """What check_training resolved once: the model to train and the precision flags."""

    location: ModelLocation
    precision: dict[str, bool]  # TrainingArguments' bf16 / fp16


def precision_flags(dtype: torch.dtype) -> dict[str, bool]:
    """TrainingArguments flags for autocast in `dtype` over fp32 master weights."""
    if dtype == torch.float16 and not torch.cuda.is_available():
        raise TrainingError(
            "model.precision = 'fp16' needs a GPU (CPUs have no fp16 autocast for training). "
            "Fix: set model.precision to auto, bf16 or fp32."
        )
    return {"bf16": dtype == torch.bfloat16, "fp16": dtype == torch.float16}


def trainer_options(logging_steps: int, save_steps: int, precision: dict[str, bool]) -> dict:
    """Arguments every trainer of this project (SFT and GRPO) shares: logging and checkpoint
    cadence, retention, several-process and device settings, precision; integrations off."""
    return {
        "logging_strategy": "steps",
        "logging_steps": logging_steps,
        "save_strategy": "steps",
        "save_steps": save_steps,
        "save_total_limit": 2,  # the newest stays whole while the next one is being written
        # Machines without a shared disk each keep their own checkpoints (sky/pipeline.yaml).
        "save_on_each_node": distributed.save_on_each_node(),
        # Every LoRA weight is used in every forward pass: DDP need not search for unused ones.
        "ddp_find_unused_parameters": False,
        "use_cpu": not torch.cuda.is_available(),  # transformers asks for it to allow bf16 on CPU
        "dataloader_pin_memory": torch.cuda.is_available(),
        "report_to": [],
        **precision,
    }
