"""`mathtune` on the command line: `python -m mathtune COMMAND ...`, or the `mathtune` script
that `make setup` installs.

    mathtune experiments table|report|queue   # DVC's experiments, compared and queued
"""

from __future__ import annotations

import argparse
import logging

from mathtune.experiments import command as experiments

COMMANDS = [experiments]  # each module adds its parser and sets its handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="mathtune", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.add_parser(commands)
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    arguments.handler(arguments)


if __name__ == "__main__":
    main()
