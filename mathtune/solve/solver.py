"""What `mathtune solve` does once its arguments are parsed; it writes the command's output.

One problem: the model's reasoning is streamed as it is generated, then its final answer
(and, given `--answer`, the grade). A file: every problem answered in batches, graded,
written to the predictions file, and accuracy ± standard error printed. Inputs, output path
and model are all checked before any weights load. Defaults come from params.yaml, as the
evaluate stage reads them: `model:` (base and compute precision), `evaluate.max_new_tokens`
and `evaluate.batch_size`; `--sample` draws with `evaluate.benchmarks`' temperature, top_p
and seed.
"""

from __future__ import annotations

import argparse
import time
from typing import TextIO

from mathtune.core.params import Params, load_params
from mathtune.grading.grader import grade_completion
from mathtune.models.generation import Decoding
from mathtune.solve.answers import answer_problems, stream_answer
from mathtune.solve.predictions import (
    Solved,
    check_output,
    default_output,
    grade_answers,
    summarize_accuracy,
    write_predictions,
)
from mathtune.solve.problems import check_problem, read_problems
from mathtune.solve.selection import choose_model, load_choice


def solve(args: argparse.Namespace, out: TextIO) -> None:
    """Run `mathtune solve` with parsed arguments, writing what it shows to `out`."""
    params = load_params()
    if args.file is None:
        solve_one(args, params, out)
    else:
        solve_file(args, params, out)


def decoding_for(args: argparse.Namespace, params: Params) -> Decoding:
    """Greedy by default; `--sample` draws at the benchmarks' temperature unless given."""
    max_new_tokens = args.max_new if args.max_new is not None else params.evaluate.max_new_tokens
    if not args.sample:
        return Decoding(max_new_tokens)
    sampling = params.evaluate.benchmarks
    return Decoding(
        max_new_tokens,
        temperature=sampling.temperature if args.temperature is None else args.temperature,
        top_p=sampling.top_p,
        seed=sampling.seed if args.seed is None else args.seed,
    )


def solve_one(args: argparse.Namespace, params: Params, out: TextIO) -> None:
    problem = check_problem(args.problem)
    choice = choose_model(args.model, params.model)
    model, tokenizer = load_choice(choice, params.model.precision)
    decoding = decoding_for(args, params)
    generation = stream_answer(model, tokenizer, problem, decoding, out)
    grade = grade_completion(generation.text, args.answer)
    out.write(
        f"\nfinal answer: {grade.extracted if grade.extracted is not None else 'none found'}\n"
    )
    if args.answer is not None:
        out.write(f"grade: {'correct' if grade.correct else 'wrong'} (expected {args.answer})\n")
    if generation.truncated:
        out.write(f"(cut at {decoding.max_new_tokens} new tokens: --max-new allows more)\n")


def solve_file(args: argparse.Namespace, params: Params, out: TextIO) -> None:
    problems = read_problems(args.file)
    output = args.out or default_output(args.file)
    check_output(output, args.file)
    choice = choose_model(args.model, params.model)
    model, tokenizer = load_choice(choice, params.model.precision)
    decoding = decoding_for(args, params)
    batch_size = args.batch_size if args.batch_size is not None else params.evaluate.batch_size
    start = time.perf_counter()
    texts = [problem.problem for problem in problems]
    generations = answer_problems(model, tokenizer, texts, decoding, batch_size)
    rows = grade_answers(choice.name, problems, generations)
    seconds = time.perf_counter() - start
    write_predictions(output, rows)
    report_file(rows, decoding, seconds, out)
    out.write(f"predictions: {output}\n")


def report_file(rows: list[Solved], decoding: Decoding, seconds: float, out: TextIO) -> None:
    """Speed (answering and grading, the model load left out), cut answers and accuracy ±
    standard error of a file's answers."""
    cut = sum(row.truncated for row in rows)
    out.write(
        f"{len(rows)} problems in {seconds:.1f} s ({len(rows) / seconds:.2f} problems/s); "
        f"{cut} cut at {decoding.max_new_tokens} new tokens\n"
    )
    accuracy = summarize_accuracy(rows)
    if accuracy is None:
        out.write("no gold answers (`answer` column): nothing graded\n")
        return
    out.write(
        f"accuracy {accuracy.accuracy:.1%} ± {accuracy.stderr:.1%} (standard error) over "
        f"{accuracy.graded} graded problems\n"
    )
