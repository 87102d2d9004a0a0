"""The one base class of every error this package raises on purpose.

A `MathtuneError` means the run cannot go on as configured: a param out of range, a missing
input, a model that does not fit an adapter. Its message names what was wrong, the value
seen and the fix, on one line per problem. A stage catches it once, prints the message and
exits with status 2 (`exit_on_error`); anything else is a bug and keeps its traceback.

    with exit_on_error("train"):
        params = load_params()
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

EXIT_STATUS = 2  # the usage-error status of argparse and of most command-line tools


class MathtuneError(Exception):
    """The run cannot go on as configured; the message says what to fix."""


@contextlib.contextmanager
def exit_on_error(stage: str) -> Iterator[None]:
    """Turn a MathtuneError raised inside the block into `<stage> failed: <message>`, exit 2."""
    try:
        yield
    except MathtuneError as err:
        print(f"{stage} failed: {err}", file=sys.stderr)
        sys.exit(EXIT_STATUS)
