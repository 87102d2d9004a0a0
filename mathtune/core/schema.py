"""Arrow schemas of the raw OpenR1-Math-220k rows and of the prepared splits.

One raw row (traces shortened), as `datasets` and Parquet readers return it:

    {"problem": "Tom has 23 apples and buys 15 more. How many apples does he have now?",
     "solution": "Step 1: Add what he buys: $23 + 15 = 38$.\\nThe answer is $\\\\boxed{38}$.",
     "answer": "38",
     "problem_type": "Algebra", "question_type": "math-word-problem", "source": "olympiads",
     "uuid": "1f0c8b3e-...",
     "is_reasoning_complete": [True, True],
     "generations": ["<think>\\n23 + 15 = 38 ...\\n</think>\\n\\n... $\\\\boxed{38}$", "..."],
     "correctness_math_verify": [False, True],
     "correctness_llama": None,
     "finish_reasons": ["stop", "stop"],
     "correctness_count": 1,
     "messages": [{"content": "Tom has 23 apples ...", "role": "user"},
                  {"content": "<think>\\n...", "role": "assistant"}]}

A prepared row keeps the problem, the answer, the training `target` text (the written
solution or the first correct, complete trace), the metadata, the row's family and whether
its answer can be graded, in PREPARED_SCHEMA order.
The train and evaluate stages read prepared splits through `read_prepared_columns`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq

from mathtune.core.errors import MathtuneError

Target = Literal["solution", "trace"]

# Column types of open-r1/OpenR1-Math-220k (all configs share them).
OPENR1_SCHEMA = pa.schema(
    [
        ("problem", pa.string()),
        ("solution", pa.string()),
        ("answer", pa.string()),
        ("problem_type", pa.string()),
        ("question_type", pa.string()),
        ("source", pa.string()),
        ("uuid", pa.string()),
        ("is_reasoning_complete", pa.list_(pa.bool_())),
        ("generations", pa.list_(pa.string())),
        ("correctness_math_verify", pa.list_(pa.bool_())),
        ("correctness_llama", pa.list_(pa.bool_())),
        ("finish_reasons", pa.list_(pa.string())),
        ("correctness_count", pa.int64()),
        (
            "messages",
            pa.list_(pa.struct([("content", pa.string()), ("role", pa.string())])),
        ),
    ]
)

PREPARED_SCHEMA = pa.schema(
    [
        ("uuid", pa.string()),
        ("problem", pa.string()),
        ("answer", pa.string()),
        ("target", pa.string()),
        ("problem_type", pa.string()),
        ("question_type", pa.string()),
        ("source", pa.string()),
        ("family", pa.string()),
        ("gradable", pa.bool_()),
    ]
)

METADATA_COLUMNS = ("problem_type", "question_type", "source")
TRACE_COLUMNS = ("generations", "correctness_math_verify", "is_reasoning_complete")


def needed_columns(target: Target) -> list[str]:
    """Raw columns prepare reads for a training target; everything else is never decoded.

    >>> needed_columns("solution")
    ['problem', 'solution', 'answer', 'uuid', 'problem_type', 'question_type', 'source']
    """
    columns = ["problem", "solution", "answer", "uuid", *METADATA_COLUMNS]
    if target == "trace":
        columns += TRACE_COLUMNS
    return columns


class SplitError(MathtuneError):
    """A prepared split is missing, lacks columns or has no rows; the message says the fix."""


def read_prepared_columns(path: Path, columns: Sequence[str]) -> dict[str, list]:
    """`columns` of a prepared Parquet split as Python lists in file order; nothing else is read."""
    if not path.is_file():
        raise SplitError(f"{path} not found. Fix: run the prepare stage (`dvc repro prepare`).")
    present = pq.read_schema(path).names
    missing = [column for column in columns if column not in present]
    if missing:
        raise SplitError(
            f"{path} has columns {present}, missing {missing}. "
            "Fix: rerun the prepare stage (`dvc repro prepare`)."
        )
    table = pq.read_table(path, columns=list(columns))
    if table.num_rows == 0:
        raise SplitError(f"{path} has no rows. Fix: check the prepare params and rerun it.")
    return {column: table.column(column).to_pylist() for column in columns}
