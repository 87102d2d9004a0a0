"""The `mathtune` command (also `python -m mathtune`): what a person runs by hand.

    mathtune solve "What is 15% of 80?" --model merged
    mathtune solve --file problems.jsonl --model grpo
    mathtune experiments table|report|queue      # DVC's experiments, compared and queued

Each subcommand is one function in COMMANDS, from the step package it belongs to: it adds
its parser to the subparsers and sets the parser's `run` default, which is called with the
parsed arguments. A MathtuneError stops the command with one line on stderr naming the fix,
and exit status 2 (as a usage error from argparse).
"""

from __future__ import annotations

import argparse
import logging

from mathtune.core.errors import exit_on_error
from mathtune.experiments.command import add_experiments_command
from mathtune.solve.command import add_solve_command

COMMANDS = [add_solve_command, add_experiments_command]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mathtune", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_command in COMMANDS:
        add_command(subparsers)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    # Warnings only: the command's own output is what it prints, progress bars go to stderr.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with exit_on_error(args.command):
        args.run(args)


if __name__ == "__main__":
    main()
