"""Tests for mathtune.equivalence: the case table, fuzzing, time bounds and threads."""

from __future__ import annotations

import doctest
import logging
import multiprocessing
import random
import string
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest
from answer_cases import COMPLETION_CASES, EQUIVALENCE_CASES, flatten
from hypothesis import given, settings
from hypothesis import strategies as st

import mathtune.equivalence
from mathtune.equivalence import AnswerCheck, answers_match, check_answer

TIME_LIMIT_S = 1.0  # the worst case per call
PAIRS = flatten(EQUIVALENCE_CASES)
COMPLETIONS = flatten(COMPLETION_CASES)
ANSWERS = sorted({text for _, predicted, gold, _ in PAIRS for text in (predicted, gold)})
CHOICES = {
    text for group, *texts, _ in PAIRS if group == "multiple-choice letters" for text in texts
}


@pytest.mark.parametrize(("group", "predicted", "gold", "expected"), PAIRS)
def test_equivalence_case(group, predicted, gold, expected):
    assert answers_match(predicted, gold) is expected, group


@pytest.mark.parametrize(("group", "completion", "gold", "expected"), COMPLETIONS)
def test_completion_case(group, completion, gold, expected):
    assert check_answer(completion, gold).correct is expected, group


def test_case_table_has_several_hundred_cases_with_near_misses():
    assert len(PAIRS) + len(COMPLETIONS) >= 300
    assert sum(1 for *_, expected in PAIRS if not expected) >= 100


def test_check_answer_reports_what_it_read_and_how():
    check = check_answer("<think>maybe 3</think> The answer is $x = 4$.", "4")
    assert check == AnswerCheck(extracted="x = 4", strategy="answer_phrase", correct=True)
    assert check_answer("<think>only thinking</think>", "4") == AnswerCheck(None, None, False)


class _Warnings(logging.Handler):
    """Collects warnings from mathtune: the guards log one whenever they catch an error."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


LATEX_TOKENS = ["\\frac{", "\\sqrt{", "{", "}", "(", ")", "[", "]", "^", "_", "1", "2.5", "x"]
LATEX_TOKENS += ["=", ",", "\\pm", "<", "\\le", "\\text{ cm}", "\\%", "^\\circ", "\\infty", "|"]
LATEX_TOKENS += ["!", "\\pi", "e", "\\left(", "\\right)", "\\{", "\\}", "10^{10^{", "$", "-"]
latex_soup = st.lists(st.sampled_from(LATEX_TOKENS), max_size=40).map("".join)
answers = st.one_of(st.text(max_size=80), latex_soup, st.sampled_from(ANSWERS))


@settings(max_examples=1000, deadline=None)
@given(answers, answers)
def test_never_raises_and_stays_within_the_time_limit(predicted, gold):
    handler = _Warnings()
    logging.getLogger("mathtune").addHandler(handler)
    try:
        start = time.perf_counter()
        assert isinstance(answers_match(predicted, gold), bool)
        assert isinstance(check_answer(predicted, gold).correct, bool)
        assert time.perf_counter() - start < TIME_LIMIT_S
    finally:
        logging.getLogger("mathtune").removeHandler(handler)
    assert not handler.records, [record.getMessage() for record in handler.records]


@settings(max_examples=1000, deadline=None)
@given(st.sampled_from(ANSWERS), st.sampled_from(ANSWERS))
def test_matching_is_symmetric_outside_multiple_choice(a, b):
    if a in CHOICES or b in CHOICES:
        return  # a choice-letter gold reads the prediction leniently: "(B) 12" = "B"
    assert answers_match(a, b) == answers_match(b, a)


def test_case_table_needs_no_error_guard():
    """The guards in answers_match catch bugs silently; none may fire on the table."""
    handler = _Warnings()
    logging.getLogger("mathtune").addHandler(handler)
    try:
        for _, predicted, gold, _ in PAIRS:
            for pair in ((predicted, gold), (gold, predicted)):
                answers_match(*pair)
    finally:
        logging.getLogger("mathtune").removeHandler(handler)
    assert not handler.records, [record.getMessage() for record in handler.records]


numbers = st.fractions(min_value=-(10**6), max_value=10**6, max_denominator=1000)


@settings(max_examples=200, deadline=None)
@given(numbers)
def test_a_number_matches_itself_in_every_notation(value):
    fraction = f"\\frac{{{value.numerator}}}{{{value.denominator}}}"
    notations = [fraction, f"{value.numerator}/{value.denominator}", f"$ {fraction} $."]
    if value.denominator == 1:
        notations += [f"{value.numerator}", f"{value.numerator}.0", f"\\boxed{{{value}}}"]
    for notation in notations:
        assert answers_match(notation, fraction), notation
    assert not answers_match(f"{value + 1}", str(value))


def _random_garbage(size: int) -> str:
    generator = random.Random(size)
    return "".join(generator.choice(string.printable) for _ in range(size))


ADVERSARIAL = {
    "100 KB of printable garbage": _random_garbage(100_000),
    "10,000 nested braces in a box": "\\boxed{" + "{" * 5000 + "1" + "}" * 5000 + "}",
    "400 nested parentheses": "\\boxed{" + "(" * 400 + "1" + ")" * 400 + "}",
    "300 nested fractions": "\\boxed{" + "\\frac{" * 300 + "1" + "}{2}" * 300 + "}",
    "power tower": "\\boxed{10^{10^{10^{10^{10}}}}}",
    "x^x^...^x": "\\boxed{" + "x^" * 400 + "2}",
    "sin of a googolplex": "\\boxed{\\sin(10^{10^{100}})}",
    "factorial of a billion": "\\boxed{(10^{9})!}",
    "20,000 boxes": "\\boxed{1} " * 20_000,
    "20,000 unclosed boxes": "\\boxed{1 " * 20_000,
    "100,000 dollar signs": "$" * 100_000,
    "list of 400 values": "\\boxed{" + ", ".join(map(str, range(400))) + "}",
    "nested lists of points": "\\boxed{" + ",".join(["((1,2),(3,4),(5,6))"] * 40) + "}",
    "5000-digit number": "\\boxed{" + "9" * 5000 + "}",
    "a 1000-digit decimal": "\\boxed{0." + "3" * 1000 + "}",
}


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_adversarial_completion_is_graded_fast(name):
    start = time.perf_counter()
    check = check_answer(ADVERSARIAL[name], "1")
    assert isinstance(check.correct, bool)
    assert time.perf_counter() - start < TIME_LIMIT_S


# Rewrites that keep an answer's meaning but make a string the caches have not seen.
REWRITES = ["${}$", "\\boxed{{{}}}", "\\displaystyle {}", "{} ."]


def test_many_threads_at_once_get_the_sequential_results():
    jobs = [
        (rewrite.format(predicted), gold) for rewrite in REWRITES for _, predicted, gold, _ in PAIRS
    ]
    jobs += [(f"{completion} ", gold) for _, completion, gold, _ in COMPLETIONS]
    random.Random(0).shuffle(jobs)
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda job: check_answer(*job), jobs))
    assert results == [check_answer(completion, gold) for completion, gold in jobs]


def test_worker_processes_get_the_same_results():
    predicted, gold = [row[1] for row in PAIRS], [row[2] for row in PAIRS]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        results = list(pool.map(answers_match, predicted, gold, chunksize=64))
    assert results == [row[3] for row in PAIRS]


def test_docstring_examples_run():
    assert doctest.testmod(mathtune.equivalence).failed == 0
