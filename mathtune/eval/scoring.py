"""Scoring generations with the project's reward functions, one `Prediction` per completion.

Each (model, problem, completion) becomes one `Prediction`, graded once by the checker that RL
training's rewards read (`mathtune.grading`). Predictions stay rows from scoring to the
Parquet file and the W&B table. One row of
data/eval/predictions.parquet:

    {"model": "sft", "split": "heldout", "sample": None, "uuid": "1f0c8b3e-...",
     "problem": "Tom has 23 apples ...", "problem_type": "Algebra", "family": "sum_items",
     "gold": "38", "generation": "Add: $23 + 15 = 38$. ...", "extracted_answer": "38",
     "extraction_strategy": "boxed", "correct": True, "format_ok": True,
     "grader_timed_out": False, "grader_machinery_failure": False,
     "reasoning_quality": 0.75, "generated_tokens": 41,
     "truncated": False}

`sample` is None for the greedy answer and k for the k-th sampled completion (benchmarks'
pass@1). `grader_timed_out`: the comparison ran past the grader's CPU budget and was scored
incorrect.
"""

from __future__ import annotations

import dataclasses
import filecmp
import logging
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from mathtune.eval.requests import BASE_MODEL, Answers, sampled_name
from mathtune.eval.sets import EvalSet
from mathtune.grading.grader import grade_completions
from mathtune.grading.reasoning import score_reasoning
from mathtune.models.generation import Generation
from mathtune.models.loading import ADAPTER_FILES

logger = logging.getLogger(__name__)

ADAPTER_NAME = re.compile(r"[a-z][a-z0-9_]*")
# Taken by the metric keys eval/base/..., eval/delta/... and eval/samples/...
RESERVED_NAMES = (BASE_MODEL, "delta", "samples")


@dataclass(frozen=True)
class Prediction:
    """One model's completion for one problem, scored."""

    model: str
    split: str
    sample: int | None  # None: the greedy answer; k: the k-th sampled completion
    uuid: str
    problem: str
    problem_type: str
    family: str
    gold: str
    generation: str
    extracted_answer: str | None
    extraction_strategy: str | None
    correct: bool
    format_ok: bool
    grader_timed_out: bool
    grader_machinery_failure: bool  # the worker pool could not run it: graded in-process
    reasoning_quality: float
    generated_tokens: int
    truncated: bool


def _arrow_type(annotation: object) -> pa.DataType:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        (annotation,) = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    return {str: pa.string(), bool: pa.bool_(), int: pa.int64(), float: pa.float64()}[annotation]


# Columns of data/eval/predictions.parquet: the Prediction fields, in order.
PREDICTIONS_SCHEMA = pa.schema(
    [(name, _arrow_type(hint)) for name, hint in typing.get_type_hints(Prediction).items()]
)


def parse_adapter_option(text: str) -> tuple[str, Path]:
    """`NAME=PATH` of the --adapter option, the name checked for use in metric keys.

    >>> parse_adapter_option("sft=models/adapter")
    ('sft', PosixPath('models/adapter'))
    """
    name, separator, path = text.partition("=")
    if not separator or not path or not ADAPTER_NAME.fullmatch(name) or name in RESERVED_NAMES:
        raise ValueError(
            f"--adapter {text!r}: expected NAME=PATH with NAME in lower case letters, digits "
            f"and _ (not {' or '.join(RESERVED_NAMES)}), e.g. --adapter sft=models/adapter."
        )
    return name, Path(path)


def drop_repeated_adapters(adapters: dict[str, Path]) -> dict[str, Path]:
    """The adapters in order, less any whose files are byte-identical to an earlier one's.

    With RL off the grpo stage copies the SFT adapter: evaluating the copy would cost one
    more pass over every problem and only repeat the same greedy answers.
    """
    kept: dict[str, Path] = {}
    for name, path in adapters.items():
        twin = next((earlier for earlier in kept if _same_adapter(kept[earlier], path)), None)
        if twin is None:
            kept[name] = path
        else:
            logger.info(
                "Adapter %s (%s) is the same as %s: evaluated once, as %s.", name, path, twin, twin
            )
    return kept


def _same_adapter(first: Path, second: Path) -> bool:
    return all(
        (first / name).is_file()
        and (second / name).is_file()
        and filecmp.cmp(first / name, second / name, shallow=False)
        for name in ADAPTER_FILES
    )


def score_answers(eval_sets: list[EvalSet], answers: Answers) -> list[Prediction]:
    """Every completion of every model scored: per model, per set, greedy then samples."""
    predictions = []
    for model, by_request in answers.items():
        for eval_set in eval_sets:
            greedy = [completions[0] for completions in by_request[eval_set.name]]
            predictions += score_generations(model, eval_set, greedy)
            for draw, generations in enumerate(_draws(by_request.get(sampled_name(eval_set.name)))):
                predictions += score_generations(model, eval_set, generations, sample=draw)
    return predictions


def _draws(completions: list[list[Generation]] | None) -> list[list[Generation]]:
    """Per-problem completions regrouped per draw: draws[k][i] is problem i's k-th sample."""
    return [list(draw) for draw in zip(*completions, strict=True)] if completions else []


def score_generations(
    model: str, eval_set: EvalSet, generations: list[Generation], sample: int | None = None
) -> list[Prediction]:
    """Score one model's generations: one grade each, as RL training's rewards read it."""
    problems = eval_set.problems
    texts = [generation.text for generation in generations]
    golds = [problem.answer for problem in problems]
    grades = grade_completions(texts, golds)
    return [
        Prediction(
            model=model,
            split=eval_set.name,
            sample=sample,
            uuid=problems[index].uuid,
            problem=problems[index].problem,
            problem_type=problems[index].problem_type,
            family=problems[index].family,
            gold=golds[index],
            generation=texts[index],
            extracted_answer=grades[index].extracted,
            extraction_strategy=grades[index].strategy,
            correct=grades[index].correct,
            format_ok=grades[index].boxed,
            grader_timed_out=grades[index].timed_out,
            grader_machinery_failure=grades[index].machinery_failure,
            reasoning_quality=score_reasoning(texts[index]),
            generated_tokens=generations[index].generated_tokens,
            truncated=generations[index].truncated,
        )
        for index in range(len(texts))
    ]


def predictions_table(predictions: list[Prediction]) -> pa.Table:
    """Arrow table of predictions, one row per Prediction, columns as its fields."""
    rows = [dataclasses.asdict(prediction) for prediction in predictions]
    return pa.Table.from_pylist(rows, schema=PREDICTIONS_SCHEMA)
