"""The problem sets evaluate scores: seen and held-out families, and standard benchmarks.

Every set becomes a list of `Problem`s; one, from the held-out split:

    Problem(uuid="9c1e...", problem="A train travels 120 km in 2 hours. ...", answer="60",
            problem_type="Algebra", family="rate")

- `seen`: data/prepared/validation.parquet, rows of the families training saw.
- `heldout`: data/prepared/heldout.parquet, whole families kept out of training.
- `probe`: problems written outside the curriculum (`evaluate.probe_sets`, JSONL files with
  uuid, category, problem and answer: by hand, and by other projects' generators), which
  prepare decontaminates training against. A problem's `problem_type` is its file's name and
  its `family` its category.
- `math500`, `gsm8k`: MATH-500 and GSM8K test (real configuration), from the hub at a pinned
  revision or from local JSONL/Parquet files. MATH-500 rows carry their subject as
  `problem_type` and their difficulty as `family` ("level 1" .. "level 5").
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mathtune.core.errors import MathtuneError
from mathtune.core.params import BENCHMARK_NAMES, BenchmarkParams, BenchmarksParams
from mathtune.core.schema import read_prepared_columns

SPLIT_COLUMNS = ("uuid", "problem", "answer", "problem_type", "family")
LOCAL_SUFFIXES = {".parquet": "parquet", ".jsonl": "json", ".json": "json"}


class EvalSetError(MathtuneError):
    """A benchmark cannot be read; the message says the fix."""


@dataclass(frozen=True)
class Problem:
    """One problem to answer, with its gold answer and the groups it is reported under."""

    uuid: str
    problem: str
    answer: str
    problem_type: str
    family: str


@dataclass(frozen=True)
class EvalSet:
    """Problems scored together; `groups` maps a Problem field to its name in breakdowns."""

    name: str
    problems: list[Problem]
    groups: dict[str, str] = field(default_factory=dict)
    benchmark: bool = False  # benchmarks get their own length limit and pass@1 samples

    def __post_init__(self) -> None:
        # Scores are kept per problem id (pass@1 gathers a problem's samples by it, deltas
        # pair two models' answers by it): a repeated id would merge two problems into one.
        counts = Counter(problem.uuid for problem in self.problems)
        repeated = sorted(uuid for uuid, count in counts.items() if count > 1)
        if repeated:
            raise EvalSetError(
                f"{self.name}: {len(repeated)} problem ids occur more than once "
                f"(e.g. {repeated[:3]}). Fix: remove the repeated rows from the source files, "
                "or list each file once."
            )


@dataclass(frozen=True)
class BenchmarkFormat:
    """The columns of a benchmark and how one of its rows becomes a Problem."""

    columns: tuple[str, ...]
    to_problem: Callable[[dict[str, Any], int], Problem]
    groups: dict[str, str]


SPLIT_GROUPS = {"family": "family", "problem_type": "problem_type"}
PROBE_GROUPS = {"problem_type": "set", "family": "category"}
PROBE_COLUMNS = ("uuid", "category", "problem", "answer")


def read_split(name: str, path: Path, max_samples: int | None) -> EvalSet:
    """A prepared split (validation or held-out), `max_samples` rows spread over its families."""
    columns = read_prepared_columns(path, SPLIT_COLUMNS)
    problems = [Problem(*values) for values in zip(*columns.values(), strict=True)]
    return EvalSet(name, select_rows(problems, max_samples), SPLIT_GROUPS)


def read_probe_sets(paths: list[str], max_samples: int | None) -> EvalSet:
    """The probe files as one set: up to `max_samples` problems, taken from each file in turn
    and within a file from each category in turn, so every set and category is represented."""
    per_file = [select_rows(_probe_problems(Path(path)), None) for path in paths]
    interleaved = [
        problems[turn]
        for turn in range(max((len(problems) for problems in per_file), default=0))
        for problems in per_file
        if turn < len(problems)
    ]
    return EvalSet("probe", interleaved[:max_samples], PROBE_GROUPS)


def _probe_problems(path: Path) -> list[Problem]:
    where = "evaluate.probe_sets"
    if not path.is_file():
        raise EvalSetError(f"{where}: {path} not found; paths are relative to the repo.")
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    missing = sorted({column for row in rows for column in PROBE_COLUMNS if column not in row})
    if not rows or missing:
        raise EvalSetError(
            f"{where}: {path} has {len(rows)} rows and lacks columns {missing}. Fix: JSON Lines "
            f"with {', '.join(PROBE_COLUMNS)} on every line."
        )
    return [
        Problem(row["uuid"], row["problem"], str(row["answer"]), path.stem, row["category"])
        for row in rows
    ]


def select_rows(problems: list[Problem], limit: int | None) -> list[Problem]:
    """Up to `limit` problems taken from each family in turn, so every family is represented.

    >>> rows = [Problem(str(i), "", "", "", family) for i, family in enumerate("aaab")]
    >>> [row.uuid for row in select_rows(rows, 3)]
    ['0', '3', '1']
    """
    by_family: dict[str, list[Problem]] = {}
    for problem in problems:
        by_family.setdefault(problem.family, []).append(problem)
    queues = list(by_family.values())
    selected: list[Problem] = []
    for turn in range(max((len(queue) for queue in queues), default=0)):
        selected += [queue[turn] for queue in queues if turn < len(queue)]
    return selected[:limit]


def gsm8k_gold(solution: str) -> str:
    """The final answer of a GSM8K solution: the text after its last `####`, commas dropped.

    >>> gsm8k_gold("She pays 3 * 400 = <<3*400=1200>>1200 dollars.\\n#### 1,200")
    '1200'
    """
    answer = solution.rsplit("####", 1)[-1].strip()
    return re.sub(r"(?<=\d),(?=\d{3})", "", answer)


def _math500_problem(row: dict[str, Any], index: int) -> Problem:
    return Problem(
        uuid=str(row["unique_id"]),
        problem=row["problem"],
        answer=str(row["answer"]),
        problem_type=str(row["subject"]),
        family=f"level {row['level']}",
    )


def _gsm8k_problem(row: dict[str, Any], index: int) -> Problem:
    # GSM8K rows have no id: the row number at the pinned revision identifies them.
    return Problem(f"gsm8k-test-{index}", row["question"], gsm8k_gold(row["answer"]), "", "")


BENCHMARK_FORMATS = {
    "math500": BenchmarkFormat(
        ("problem", "answer", "subject", "level", "unique_id"),
        _math500_problem,
        {"family": "level", "problem_type": "subject"},
    ),
    "gsm8k": BenchmarkFormat(("question", "answer"), _gsm8k_problem, {}),
}


def read_benchmarks(params: BenchmarksParams) -> list[EvalSet]:
    """Every benchmark whose source is not `none`, loaded and checked before any model loads."""
    sets = []
    for name in BENCHMARK_NAMES:
        benchmark: BenchmarkParams = getattr(params, name)
        if benchmark.source == "none":
            continue
        spec = BENCHMARK_FORMATS[name]
        rows = _load_rows(name, benchmark, spec.columns)[: params.max_samples]
        problems = [spec.to_problem(row, index) for index, row in enumerate(rows)]
        sets.append(EvalSet(name, problems, spec.groups, benchmark=True))
    return sets


def _load_rows(name: str, benchmark: BenchmarkParams, columns: tuple[str, ...]) -> list[dict]:
    # Imported here: `datasets` is slow to import and the default pipeline needs no benchmark.
    import datasets
    import httpx

    where = f"evaluate.benchmarks.{name}"
    try:
        if benchmark.source == "hub":
            data = datasets.load_dataset(
                benchmark.dataset,
                benchmark.config,
                split=benchmark.split,
                revision=benchmark.revision,
            )
        else:
            data = datasets.concatenate_datasets(
                [_load_local_file(where, Path(path)) for path in benchmark.local_files]
            )
    except (OSError, ValueError, datasets.exceptions.DatasetsError, httpx.HTTPError) as err:
        raise EvalSetError(
            f"{where}: could not load {benchmark.source} data ({err}). Fix: check network access "
            f"and {where}.dataset/revision, or set {where}.source: local with local_files, or "
            f"{where}.source: none to skip it."
        ) from err
    missing = [column for column in columns if column not in data.column_names]
    if missing:
        raise EvalSetError(
            f"{where}: the data has columns {data.column_names}, missing {missing}. "
            f"Fix: provide files with the columns {', '.join(columns)}."
        )
    return data.select_columns(list(columns)).to_list()


def _load_local_file(where: str, path: Path):
    import datasets

    builder = LOCAL_SUFFIXES.get(path.suffix.lower())
    if builder is None:
        raise EvalSetError(
            f"{where}.local_files: {path} has suffix {path.suffix!r}; allowed are "
            f"{', '.join(LOCAL_SUFFIXES)}."
        )
    if not path.is_file():
        raise EvalSetError(
            f"{where}.local_files: {path} not found; paths are relative to the repo."
        )
    return datasets.load_dataset(builder, data_files=str(path), split="train")
