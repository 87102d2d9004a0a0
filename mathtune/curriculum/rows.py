"""Curriculum problems as rows of the exact OpenR1-Math-220k schema, with R1-style traces.

Row `i` of seed `s` depends only on `(s, i)`: its family is `FAMILY_NAMES[i % n]` and its
numbers come from a generator seeded with `"s:i"`, so asking for more rows never changes
the earlier ones. The family is kept in the `source` column as `synthetic/<family>` (OpenR1
names the origin of a problem there, e.g. `olympiads`), so the raw rows keep the schema.

    >>> row = generate_row(seed=0, index=0)
    >>> row["source"], row["solution"].endswith("$\\\\boxed{" + row["answer"] + "}$.")
    ('synthetic/addition', True)
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import pyarrow as pa

from mathtune.core.schema import OPENR1_SCHEMA
from mathtune.curriculum.problems import WorkedProblem
from mathtune.curriculum.registry import FAMILIES, FAMILY_NAMES

UUID_NAMESPACE = uuid.UUID("6f1c2a9e-4b1d-5e8a-9c3f-0d2e7b5a8c41")
SOURCE_PREFIX = "synthetic/"
OPENERS = ("Okay, let me work through this.", "Let me think step by step.")
# (first trace, second trace) kinds and their weights: every row keeps one correct,
# complete trace, and some put it second so "first correct trace" logic is exercised.
TRACE_PATTERNS = (("correct", "correct"), ("failed", "correct"), ("cut", "correct"))
TRACE_WEIGHTS = (5, 3, 2)


def write_solution(problem: WorkedProblem) -> str:
    """Numbered steps, then the boxed answer on its own line."""
    lines = [f"Step {number}: {step}" for number, step in enumerate(problem.steps, start=1)]
    return "\n".join([*lines, f"The answer is $\\boxed{{{problem.answer}}}$."])


def _write_trace(kind: str, problem: WorkedProblem, opener: str) -> str:
    if kind == "correct":
        thought = f"{opener} {' '.join(problem.steps)} So the answer is {problem.answer}."
        return f"<think>\n{thought}\n</think>\n\n{write_solution(problem)}"
    if kind == "failed":
        return f"<think>\n{opener} {problem.steps[0]} Hmm, I lost track.\n</think>\n\nNo answer."
    # A trace cut by the generation limit: no closing tag, no written solution.
    return f"<think>\n{opener} {problem.steps[0]} Let me check that again. Let me check"


def generate_row(seed: int, index: int) -> dict[str, Any]:
    """Row `index` of the synthetic source, with every OpenR1-Math-220k column."""
    rng = random.Random(f"{seed}:{index}")  # str seeds hash with SHA-512: stable across runs
    family = FAMILY_NAMES[index % len(FAMILY_NAMES)]
    problem = FAMILIES[family](rng)
    kinds = rng.choices(TRACE_PATTERNS, weights=TRACE_WEIGHTS)[0]
    traces = [
        _write_trace(kind, problem, opener) for kind, opener in zip(kinds, OPENERS, strict=True)
    ]
    verified = [kind == "correct" for kind in kinds]
    return {
        "problem": problem.problem,
        "solution": write_solution(problem),
        "answer": problem.answer,
        "problem_type": problem.problem_type,
        "question_type": problem.question_type,
        "source": SOURCE_PREFIX + family,
        "uuid": str(uuid.uuid5(UUID_NAMESPACE, f"{seed}:{index}")),
        "is_reasoning_complete": [kind != "cut" for kind in kinds],
        "generations": traces,
        "correctness_math_verify": verified,
        "correctness_llama": None if rng.random() < 0.5 else list(verified),
        "finish_reasons": ["length" if kind == "cut" else "stop" for kind in kinds],
        "correctness_count": sum(verified),
        "messages": [
            {"content": problem.problem, "role": "user"},
            {"content": traces[verified.index(True)], "role": "assistant"},
        ],
    }


def generate_table(count: int, seed: int, start: int = 0) -> pa.Table:
    """Rows `start .. start + count - 1` as an Arrow table in the exact OpenR1 schema."""
    rows = [generate_row(seed, index) for index in range(start, start + count)]
    return pa.Table.from_pylist(rows, schema=OPENR1_SCHEMA)
