"""Trainer options shared by SFT and GRPO: precision flags refuse what the machine cannot do."""

from __future__ import annotations

import pytest
import torch

from mathtune.training.trainer_options import TrainingError, precision_flags


def test_fp16_is_refused_on_cpu_and_bf16_means_autocast():
    if torch.cuda.is_available():
        pytest.skip("fp16 is allowed on a GPU")
    with pytest.raises(TrainingError, match="fp16' needs a GPU"):
        precision_flags(torch.float16)
    assert precision_flags(torch.bfloat16) == {"bf16": True, "fp16": False}
    assert precision_flags(torch.float32) == {"bf16": False, "fp16": False}
