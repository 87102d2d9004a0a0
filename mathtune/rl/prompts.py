"""The prompts GRPO trains on: gradable train-split problems in the SFT chat format.

One row of the data set handed to TRL's GRPOTrainer:

    {"prompt": [{"role": "user",
                 "content": "What is 2 + 3?\\n\\nPlease reason step by step, and put ..."}],
     "answer": "5", "problem": "What is 2 + 3?"}

`prompt` is conversational: TRL renders it with the tokenizer's chat template and
`add_generation_prompt=True`, as `format_prompt` does for SFT and evaluation, and it passes
`answer` to every reward function, one entry per completion.

`filter_prompts` optionally drops problems the SFT model always or never solves: all the
completions of such a prompt get the same reward, so their advantages are zero and the step
learns nothing from them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import torch
from datasets import Dataset
from tqdm.auto import tqdm
from transformers import PreTrainedModel, set_seed
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from mathtune.core import distributed
from mathtune.core.params import PromptFilterParams
from mathtune.core.schema import SplitError, read_prepared_columns
from mathtune.models.prompts import build_messages, format_prompt

logger = logging.getLogger(__name__)

# Marks rows whose answer the checker can grade; older prepared splits lack it (all usable).
GRADABLE_COLUMN = "gradable"
FILTER_BATCH_PROMPTS = 8  # prompts per sampling call while screening


@dataclass(frozen=True)
class PromptSet:
    dataset: Dataset
    ungradable: int  # train rows left out because their answer cannot be graded
    screened: int  # prompts sampled by the filter (0 when it is off)
    filtered_out: int  # screened prompts dropped as always or never solved


def read_prompts(path: Path) -> PromptSet:
    """The gradable rows of a prepared split as GRPO prompts with their `answer` column."""
    present = pq.read_schema(path).names if path.is_file() else []
    columns = ["problem", "answer"] + ([GRADABLE_COLUMN] if GRADABLE_COLUMN in present else [])
    data = read_prepared_columns(path, columns)
    gradable = data.get(GRADABLE_COLUMN) or [True] * len(data["answer"])
    keep = [
        index
        for index, answer in enumerate(data["answer"])
        if gradable[index] and isinstance(answer, str) and answer.strip()
    ]
    if not keep:
        raise SplitError(
            f"{path} has no row with a gradable answer, so no reward can be computed. "
            "Fix: check the prepare params (source, max_rows) and rerun `dvc repro prepare`."
        )
    dataset = Dataset.from_dict(
        {
            "prompt": [build_messages(data["problem"][index]) for index in keep],
            "answer": [data["answer"][index] for index in keep],
            "problem": [data["problem"][index] for index in keep],
        }
    )
    return PromptSet(dataset, len(data["answer"]) - len(keep), 0, 0)


def filter_prompts(
    prompts: PromptSet,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    settings: PromptFilterParams,
    sampling: dict,
    accuracy: Callable[..., list[float]],
    seed: int,
) -> PromptSet:
    """Keep the screened prompts that some but not all of `settings.samples` completions solve.

    `sampling` holds generate() options (max_new_tokens, temperature, eos_token_id) so the
    screen samples as training does; `accuracy` is the accuracy reward function. Under
    several processes each screens a share of the batches and all keep the same prompts.
    """
    screened = prompts.dataset.select(range(min(settings.max_prompts, len(prompts.dataset))))
    # Sharded rather than repeated on every rank: N ranks screen N times faster, and every
    # rank must end with the same prompts (TRL's sampler indexes the same data set on each),
    # which gathering one list guarantees where N identical screens would rely on bitwise
    # identical sampling on every device. Each batch draws from its own seed, so its
    # samples do not depend on which rank draws them: the result is one process's.
    starts = distributed.shard(range(0, len(screened), FILTER_BATCH_PROMPTS))
    solved = []
    for start in tqdm(starts, desc="screening prompts", unit="batch"):
        set_seed(seed + start)
        rows = screened[start : start + FILTER_BATCH_PROMPTS]
        texts = _sample(model, tokenizer, rows["problem"], settings.samples, sampling)
        answers = [answer for answer in rows["answer"] for _ in range(settings.samples)]
        scores = accuracy(texts, answer=answers)
        for index in range(len(rows["answer"])):
            solved.append(sum(scores[index * settings.samples : (index + 1) * settings.samples]))
    solved = distributed.gather_in_order(solved)
    keep = [index for index, count in enumerate(solved) if 0 < count < settings.samples]
    logger.info("filter kept %d of %d screened prompts", len(keep), len(screened))
    if not keep:
        raise SplitError(
            f"grpo.filter kept none of {len(screened)} screened prompts: the SFT model solves "
            "each always or never. Fix: raise grpo.filter.max_prompts or grpo.filter.samples, "
            "or set grpo.filter.enabled: false."
        )
    return PromptSet(
        screened.select(keep), prompts.ungradable, len(screened), len(screened) - len(keep)
    )


@torch.no_grad()
def _sample(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    problems: list[str],
    samples: int,
    sampling: dict,
) -> list[str]:
    texts = [format_prompt(tokenizer, problem) for problem in problems]
    # Left padding: generation continues from the right end of every row.
    batch = tokenizer(
        texts, add_special_tokens=False, padding=True, padding_side="left", return_tensors="pt"
    )
    was_training = model.training
    model.eval()
    output = model.generate(
        **batch.to(model.device),
        do_sample=True,
        num_return_sequences=samples,
        pad_token_id=tokenizer.pad_token_id,
        **sampling,
    )
    model.train(was_training)
    completions = output[:, batch["input_ids"].shape[1] :]
    return tokenizer.batch_decode(completions, skip_special_tokens=True)
