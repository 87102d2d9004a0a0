"""Answering: a streamed problem gets the answer batched generation gives it, word by word."""

from __future__ import annotations

import io

import pytest

from conftest import TINY_NEW_TOKENS, TINY_PROBLEMS
from mathtune.models.generation import Decoding, generate_batched
from mathtune.solve.answers import answer_problems, stream_answer

GREEDY = Decoding(TINY_NEW_TOKENS)
SAMPLED = Decoding(TINY_NEW_TOKENS, temperature=1.0, seed=3)


class CountingWriter(io.StringIO):
    """Records how many times text was written: streaming writes as it goes."""

    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_answers_come_back_in_the_problems_order(tiny_generator, tiny_tokenizer, tiny_prompts):
    answers = answer_problems(tiny_generator, tiny_tokenizer, TINY_PROBLEMS, GREEDY, 2)
    assert answers == generate_batched(tiny_generator, tiny_tokenizer, tiny_prompts, GREEDY, 2)


@pytest.mark.parametrize("decoding", [GREEDY, SAMPLED], ids=["greedy", "sampled"])
def test_a_streamed_answer_is_the_one_batched_generation_gives(
    decoding, tiny_generator, tiny_tokenizer
):
    for problem in TINY_PROBLEMS[:3]:
        out = CountingWriter()
        streamed = stream_answer(tiny_generator, tiny_tokenizer, problem, decoding, out)
        (alone,) = answer_problems(tiny_generator, tiny_tokenizer, [problem], decoding, 1)
        assert streamed == alone
        assert out.getvalue() == streamed.text + "\n"


def test_long_answers_are_written_in_pieces(tiny_generator, tiny_tokenizer):
    out = CountingWriter()
    stream_answer(tiny_generator, tiny_tokenizer, TINY_PROBLEMS[1], Decoding(48), out)
    assert out.writes > 2, "words are written as they come, not once at the end"
