"""Tests for mathtune.grading.rewards: TRL's batch signature, completion forms, registry."""

from __future__ import annotations

import doctest

import pytest

import mathtune.grading.rewards
from mathtune.curriculum.rows import generate_row
from mathtune.grading.rewards import (
    REWARD_FUNCTIONS,
    accuracy_reward,
    completion_text,
    format_reward,
    get_reward_function,
    reasoning_reward,
)

GOOD = "<think>\n23 + 15 = 38\n</think>\nStep 1: add. So $23 + 15 = 38$.\nThus $\\boxed{38}$."
UNBOXED = "The answer is 38."
WRONG = "So $\\boxed{37}$."
THINK_ONLY = "<think>\\boxed{38}</think>"


def conversational(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def test_accuracy_reward_on_strings_and_conversations():
    completions = [GOOD, UNBOXED, WRONG, THINK_ONLY]
    expected = [1.0, 1.0, 0.0, 0.0]
    assert accuracy_reward(completions, answer=["38"] * 4) == expected
    assert accuracy_reward([conversational(c) for c in completions], ["38"] * 4) == expected


def test_format_reward_needs_a_box_outside_think():
    assert format_reward([GOOD, UNBOXED, WRONG, THINK_ONLY, "<answer>38</answer>"]) == [
        1.0,
        0.0,
        1.0,
        0.0,
        0.0,
    ]


def test_reasoning_reward_is_the_reasoning_score():
    rewards = reasoning_reward([GOOD, UNBOXED, conversational(GOOD)])
    assert rewards[0] == rewards[2] == 1.0 and rewards[1] == 0.0


def test_rewards_accept_trl_keyword_arguments():
    logged = []
    columns = {
        "prompts": ["p", "p"],
        "problem": ["q", "q"],
        "completion_ids": [[1, 2], [3]],
        "trainer_state": None,
        "log_extra": lambda column, values: None,
        "log_metric": lambda name, value: logged.append((name, value)),
    }
    completions = [GOOD, WRONG]
    assert accuracy_reward(completions, answer=["38", "38"], **columns) == [1.0, 0.0]
    assert format_reward(completions, answer=["38", "38"], **columns) == [1.0, 1.0]
    assert reasoning_reward(completions, answer=["38", "38"], **columns) == [1.0, 1 / 6]
    assert logged == [("grader/timeouts", 0.0), ("grader/machinery_failures", 0.0)]


@pytest.mark.parametrize(
    ("completion", "text"),
    [
        ("plain", "plain"),
        (conversational("hi"), "hi"),
        (
            [{"role": "assistant", "content": [{"type": "text", "text": "a"}, {"type": "image"}]}],
            "a",
        ),
        ([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "a"),
        ({"role": "assistant", "content": "a"}, "a"),
        (None, ""),
        (42, ""),
        ([None, 1, "x"], ""),
    ],
)
def test_completion_text_reads_every_form(completion, text):
    assert completion_text(completion) == text


def test_malformed_completions_score_zero_without_raising():
    odd = [None, 42, [], [{}], [{"content": None}], {"role": "assistant"}, "\\boxed{" * 1000]
    for function in REWARD_FUNCTIONS.values():
        assert function(odd, answer=["1"] * len(odd)) == [0.0] * len(odd)


def test_missing_gold_answers_score_zero():
    assert accuracy_reward([GOOD, GOOD], answer=[None, float("nan")]) == [0.0, 0.0]


@pytest.mark.parametrize("answer", ["38", None, ["38", "38"]])
def test_wrong_answer_column_is_a_clear_error(answer):
    with pytest.raises(ValueError, match="one gold answer per completion"):
        accuracy_reward([GOOD], answer=answer)


def test_a_comparison_past_its_cpu_budget_scores_zero_and_is_counted():
    logged = []
    stuck = "\\boxed{(a+b+c+d)^{40}}"  # over 25 s of CPU here: past the budget on any machine
    rewards = accuracy_reward(
        [stuck, GOOD], answer=["a^{40}", "38"], log_metric=lambda *metric: logged.append(metric)
    )
    assert rewards == [0.0, 1.0]
    assert logged == [("grader/timeouts", 1.0), ("grader/machinery_failures", 0.0)]


def test_registry_and_lookup():
    assert set(REWARD_FUNCTIONS) == {"accuracy", "format", "reasoning"}
    assert get_reward_function("accuracy") is accuracy_reward


def test_unknown_reward_name_lists_the_allowed_ones():
    with pytest.raises(ValueError, match=r"'acuracy'.*\['accuracy', 'format', 'reasoning'\]"):
        get_reward_function("acuracy")


def test_docstring_examples_run():
    assert doctest.testmod(mathtune.grading.rewards).failed == 0


def test_accuracy_agrees_with_the_synthetic_data_labels():
    rows = [generate_row(seed=0, index=index) for index in range(200)]
    solutions = accuracy_reward([row["solution"] for row in rows], [row["answer"] for row in rows])
    assert solutions == [1.0] * len(rows)
    traces = [
        (trace, row["answer"], ok)
        for row in rows
        for trace, ok in zip(row["generations"], row["correctness_math_verify"], strict=True)
    ]
    rewards = accuracy_reward([t for t, _, _ in traces], [gold for _, gold, _ in traces])
    assert rewards == [float(ok) for _, _, ok in traces]
