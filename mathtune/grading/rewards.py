r"""Step 3 of grading: reward functions in the batch signature TRL's GRPOTrainer calls.

Each takes `completions` (strings, or TRL's conversational form: one list of
`{"role": ..., "content": ...}` messages per completion) and the data set's columns as
keyword arguments, and returns one float per completion. Accuracy and format read the one
`Grade` of `mathtune.grading.grader`, as evaluation does, so a reported accuracy is exactly
what training optimises.

| name        | function           | value                                                      |
|-------------|--------------------|------------------------------------------------------------|
| "accuracy"  | `accuracy_reward`  | 1.0 if `Grade.correct` against the `answer` column, else 0  |
| "format"    | `format_reward`    | 1.0 if `Grade.boxed`: the final answer is in `\boxed{}`     |
| "reasoning" | `reasoning_reward` | `score_reasoning`: steps and equations, in [0, 1]           |

They never raise on model output and each comparison is bounded by its CPU time (see
`mathtune.grading.budget`); a completion that somehow fails to score is scored 0.0 and
logged. Under TRL, `accuracy_reward` also logs, per batch, how many comparisons ran past
their CPU budget and how many the worker pool could not run (`log_metric`, METRICS).

    >>> accuracy_reward([r"So \boxed{4}.", "It is 5."], answer=["4", "4"])
    [1.0, 0.0]
    >>> get_reward_function("format")([[{"role": "assistant", "content": r"\boxed{1}"}]])
    [1.0]
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from mathtune.grading.extract import extract_answer
from mathtune.grading.grader import Grade, grade_completions
from mathtune.grading.reasoning import score_reasoning

logger = logging.getLogger(__name__)

RewardFunction = Callable[..., list[float]]

# What accuracy_reward logs through TRL's `log_metric`, per batch, from the Grades.
METRICS = {
    "grader/timeouts": "comparisons past their CPU budget (pathological input), scored 0",
    "grader/machinery_failures": "comparisons the worker pool could not run (graded in-process)",
}


def completion_text(completion: Any) -> str:
    """The text of one completion: the string itself, or its assistant messages joined."""
    if isinstance(completion, str):
        return completion
    messages = [completion] if isinstance(completion, dict) else completion
    if not isinstance(messages, (list, tuple)):
        return ""
    texts = [
        _content_text(message.get("content"))
        for message in messages
        if isinstance(message, dict) and message.get("role", "assistant") == "assistant"
    ]
    return "\n".join(texts)


def _content_text(content: Any) -> str:
    """Message content: a string, or a list of parts such as {"type": "text", "text": ...}."""
    if isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)):
        parts = [part.get("text") for part in content if isinstance(part, dict)]
        return "\n".join(part for part in parts if isinstance(part, str))
    return ""


def _score_each(completions: Sequence[Any], score: Callable[[str], float]) -> list[float]:
    """Apply `score(text)` to each completion; one that fails scores 0.0."""
    rewards, failures = [], 0
    for index, completion in enumerate(completions):
        try:
            rewards.append(float(score(completion_text(completion))))
        except Exception:  # model output is untrusted: never end a training run over one
            logger.exception("reward failed on completion %d; scored 0.0", index)
            rewards.append(0.0)
            failures += 1
    if failures:
        logger.warning("%d of %d completions could not be scored", failures, len(completions))
    return rewards


def accuracy_reward(
    completions: Sequence[Any], answer: Sequence[str | None], **kwargs: Any
) -> list[float]:
    """1.0 where the completion's final answer equals the gold `answer`, else 0.0.

    `answer` is the data set's answer column, one entry per completion (TRL repeats each
    row's value for every generation of that prompt). All completions are graded in one
    batch, so their comparisons run in parallel in the worker pool.
    """
    _check_answer_column(answer, len(completions))
    texts = [completion_text(completion) for completion in completions]
    golds = [gold if isinstance(gold, str) else None for gold in answer]
    grades = grade_completions(texts, golds)  # raises only on a bug: never a silent batch of 0
    log_metric = kwargs.get("log_metric")
    if callable(log_metric):
        for name, count in grader_counts(grades).items():
            log_metric(name, float(count))
    return [float(grade.correct) for grade in grades]


def grader_counts(grades: Sequence[Grade]) -> dict[str, int]:
    """The METRICS of a batch of Grades: time-outs and machinery failures, counted apart.

    >>> grader_counts([Grade("1", "boxed", True, False, timed_out=True)])
    {'grader/timeouts': 1, 'grader/machinery_failures': 0}
    """
    return {
        "grader/timeouts": sum(grade.timed_out for grade in grades),
        "grader/machinery_failures": sum(grade.machinery_failure for grade in grades),
    }


def _check_answer_column(answer: Any, count: int) -> None:
    if isinstance(answer, str) or not isinstance(answer, Sequence):
        seen = f"answer={answer!r:.80}"
    elif len(answer) != count:
        seen = f"{len(answer)} answers"
    else:
        return
    raise ValueError(
        f"accuracy_reward got {count} completions but {seen}; pass the data set's `answer` "
        "column as a list with one gold answer per completion"
    )


def format_reward(completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """1.0 where the final answer is given in `\\boxed{}` outside any `<think>` block.

    Reads `Grade.boxed` without grading: extraction is the part of grading it needs.
    """

    def score(text: str) -> float:
        found = extract_answer(text)
        return float(found is not None and found.boxed)

    return _score_each(completions, score)


def reasoning_reward(completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """Step-by-step quality in [0, 1]: half step count, half equations (`score_reasoning`)."""
    return _score_each(completions, score_reasoning)


REWARD_FUNCTIONS: dict[str, RewardFunction] = {
    "accuracy": accuracy_reward,
    "format": format_reward,
    "reasoning": reasoning_reward,
}


def get_reward_function(name: str) -> RewardFunction:
    """The reward function registered under `name` (a key of REWARD_FUNCTIONS)."""
    try:
        return REWARD_FUNCTIONS[name]
    except (KeyError, TypeError) as err:
        raise ValueError(
            f"unknown reward function {name!r}; choose one of {sorted(REWARD_FUNCTIONS)}"
        ) from err
