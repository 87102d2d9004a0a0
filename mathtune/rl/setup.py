"""What GRPO needs before any weight loads: the reward functions, a backend that can run
here, a step the processes can share, the model, the SFT adapter's base and the precision.

`check_grpo` resolves all of it in seconds, so the grpo stage stops on a mistake before it
starts a W&B run or loads a model:

    setup = check_grpo(params, GrpoPaths(train, sft_adapter_dir, adapter_dir, checkpoint_dir))
    setup.location, setup.precision, setup.rewards   # as check_training, plus the rewards
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mathtune.core import distributed
from mathtune.core.params import GrpoParams, Params, ParamsError

# The one import of the reward registry: evaluation grades with the same checker.
from mathtune.grading.rewards import REWARD_FUNCTIONS, RewardFunction, get_reward_function
from mathtune.models.generation import check_vllm
from mathtune.models.loading import check_adapter, locate_model, resolve_dtype
from mathtune.training.batch_sizes import grpo_micro_batches
from mathtune.training.trainer_options import TrainingSetup, precision_flags


@dataclass(frozen=True)
class GrpoPaths:
    train: Path
    sft_adapter_dir: Path
    adapter_dir: Path
    checkpoint_dir: Path


@dataclass(frozen=True)
class GrpoSetup(TrainingSetup):
    """What check_grpo resolved once: check_training's setup and the reward functions."""

    rewards: dict[str, RewardFunction]  # registry name -> function, in params order


def reward_functions(grpo: GrpoParams) -> dict[str, RewardFunction]:
    """The reward functions named in `grpo.rewards`, by registry name, in params order."""
    unknown = [name for name in grpo.rewards if name not in REWARD_FUNCTIONS]
    if unknown:
        raise ParamsError(
            f"params.yaml: grpo.rewards names {unknown[0]!r}, which is no registered reward. "
            f"Allowed: {', '.join(sorted(REWARD_FUNCTIONS))}."
        )
    return {name: get_reward_function(name) for name in grpo.rewards}


def check_grpo(params: Params, paths: GrpoPaths) -> GrpoSetup:
    """The model, precision and rewards, once every check that needs no weights has passed.

    It takes seconds, so the grpo stage runs it before it starts a W&B run or loads anything.
    """
    rewards = reward_functions(params.grpo)
    if params.grpo.backend == "vllm":
        check_vllm("grpo.backend", params.model.source)
    grpo_micro_batches(params.grpo, distributed.world_size())
    location = locate_model(params.model)
    check_adapter(paths.sft_adapter_dir, location)
    precision = precision_flags(resolve_dtype(params.model.precision))
    return GrpoSetup(location, precision, rewards)
