"""The arguments of `mathtune solve`, and the check that they go together.

    mathtune solve "What is 15% of 80?" [--model base|sft|grpo|merged|PATH] [--answer 12]
    mathtune solve --file problems.jsonl [--out predictions.parquet] [--model merged]

This module imports no model code, so `mathtune --help` answers at once; the work is in
`solver.py`, imported when the command runs.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path


def add_solve_command(subparsers: argparse._SubParsersAction) -> None:
    """Add `solve` to the `mathtune` command; its `run` default runs it."""
    parser = subparsers.add_parser(
        "solve",
        help="answer one problem, or a file of them, with a trained model",
        description="Answer one problem (its reasoning streamed) or a JSONL/Parquet/CSV file "
        "of them (a `problem` column, optionally `answer`) with the base model, an adapter or "
        "the merged model, as the evaluate stage does. Run it from the repository root: "
        "defaults come from params.yaml.",
    )
    parser.add_argument("problem", nargs="?", help="the problem text (or --file)")
    parser.add_argument("--file", type=Path, help="JSONL, Parquet or CSV with a problem column")
    parser.add_argument(
        "--model",
        default="grpo",
        help="base, sft, grpo (default), merged, or the folder of a saved model or adapter",
    )
    parser.add_argument("--answer", help="the gold answer of the problem: grade the answer")
    parser.add_argument(
        "--out", type=Path, help="predictions file (.jsonl/.parquet/.csv); default: beside --file"
    )
    parser.add_argument(
        "--max-new", type=_positive(int), help="new tokens at most (evaluate.max_new_tokens)"
    )
    parser.add_argument(
        "--batch-size", type=_positive(int), help="problems per batch (evaluate.batch_size)"
    )
    parser.add_argument("--sample", action="store_true", help="sample instead of greedy")
    parser.add_argument(
        "--temperature",
        type=_positive(float),
        help="with --sample (evaluate.benchmarks.temperature)",
    )
    parser.add_argument("--seed", type=int, help="with --sample (evaluate.benchmarks.seed)")
    parser.set_defaults(run=functools.partial(run_solve, parser))


def run_solve(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Check that the arguments go together, then solve."""
    check_arguments(parser, args)
    # Imported here: it loads torch and transformers, which `mathtune --help` does not need.
    from mathtune.solve.solver import solve

    solve(args, sys.stdout)


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Exit with argparse's usage error (status 2) when the arguments contradict."""
    if (args.problem is None) == (args.file is None):
        parser.error("give one problem or --file, not both and not neither")
    if args.file is None and args.out is not None:
        parser.error("--out goes with --file (one problem is printed, not written)")
    if args.file is not None and args.answer is not None:
        parser.error("--answer goes with one problem; a file's gold answers are its answer column")
    if not args.sample and (args.temperature is not None or args.seed is not None):
        parser.error("--temperature and --seed go with --sample")


def _positive(kind: type):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse
