"""benchmarks/transfer_probe.py: its figures come from the grades it writes, per set, model
and group, and a run on a tiny model writes both."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import model_params, save_random_adapter
from mathtune.models.loading import locate_model

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "transfer_probe.py"
spec = importlib.util.spec_from_file_location("transfer_probe", SCRIPT)
transfer_probe = importlib.util.module_from_spec(spec)
spec.loader.exec_module(transfer_probe)


def test_figures_count_the_graded_completions_per_group():
    rows = [
        {"group": "sum", "problem": "1 + 1?", "answer": "2"},
        {"group": "sum", "problem": "2 + 2?", "answer": "4"},
        {"group": "gcd", "problem": "gcd(4, 6)?", "answer": "2"},
    ]
    texts = ["So $\\boxed{2}$.", "It is 5.", "The gcd is 2."]
    graded = transfer_probe.grade_set(rows, texts)
    assert [(r["correct"], r["boxed"]) for r in graded] == [
        (True, True),
        (False, False),
        (True, False),
    ]
    assert graded[1]["completion"] == "It is 5." and graded[1]["answer"] == "4"
    figures = transfer_probe.score(graded)
    # Standard error: sqrt of the right/wrong spread over n; one problem has none.
    assert figures["ALL"] == {"n": 3, "accuracy": 0.667, "stderr": 0.333, "boxed": 0.333}
    assert figures["sum"] == {"n": 2, "accuracy": 0.5, "stderr": 0.5, "boxed": 0.5}
    assert figures["gcd"] == {"n": 1, "accuracy": 1.0, "stderr": 0.0, "boxed": 0.0}


@pytest.mark.parametrize(
    ("problem", "band"),
    [
        ("Compute 11 + 50.", "1-2 digits"),
        ("How many sides has a triangle?", "1-2 digits"),
        ("What is 007 + 8?", "1-2 digits"),  # leading zeros are not places
        ("What is 307 + 486?", "3 digits"),
        ("Solve 3132*l + 1998 = 290142", "4+ digits"),
        ("Add 2.5 and 0.125.", "3 digits"),  # a decimal counts by its longest run of digits
    ],
)
def test_size_band_is_the_longest_number_of_the_problem(problem, band):
    assert transfer_probe.size_band(problem) == band


def test_figures_by_size_band_count_the_same_grades():
    rows = [
        {"group": "sum", "problem": "What is 1 + 1?", "answer": "2"},
        {"group": "sum", "problem": "What is 100 + 1?", "answer": "101"},
        {"group": "sum", "problem": "What is 200 + 1?", "answer": "201"},
    ]
    graded = transfer_probe.grade_set(rows, ["$\\boxed{2}$", "$\\boxed{101}$", "$\\boxed{7}$"])
    by_size = transfer_probe.score(graded, "size")
    assert by_size["1-2 digits"]["accuracy"] == 1.0
    assert (by_size["3 digits"]["n"], by_size["3 digits"]["accuracy"]) == (2, 0.5)
    assert by_size["ALL"] == transfer_probe.score(graded)["ALL"]


def test_a_run_writes_every_completion_and_figures_that_agree(tmp_path, tiny_model_dir):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["model"].update(source="local", local_dir=str(tiny_model_dir), precision="fp32")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    location = locate_model(model_params(source="local", local_dir=str(tiny_model_dir)))
    save_random_adapter(location, tmp_path / "adapter", seed=1)
    problems = [
        {"category": "sum", "problem": f"What is {n} + 1?", "answer": str(n + 1)} for n in range(3)
    ]
    (tmp_path / "set.jsonl").write_text("".join(json.dumps(row) + "\n" for row in problems))
    command = [
        sys.executable, str(SCRIPT), "set.jsonl", "--adapter", "adapter", "--max-new-tokens", "6",
        "--json", "figures.json", "--completions", "completions.jsonl",
    ]  # fmt: skip
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    finished = subprocess.run(
        command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300
    )
    assert finished.returncode == 0, finished.stderr
    records = [
        json.loads(line) for line in (tmp_path / "completions.jsonl").read_text().splitlines()
    ]
    assert sorted((r["model"], r["problem"]) for r in records) == sorted(
        (model, row["problem"]) for model in ("base", "tuned") for row in problems
    )
    figures = json.loads((tmp_path / "figures.json").read_text())
    for model in ("base", "tuned"):
        mine = [r for r in records if r["model"] == model]
        assert all(r["set"] == "set.jsonl" and r["group"] == "sum" for r in mine)
        expected = round(sum(r["correct"] for r in mine) / len(mine), 3)
        assert figures[f"set.jsonl {model}"]["sum"]["accuracy"] == expected
        assert figures[f"set.jsonl {model} by largest number"]["1-2 digits"]["n"] == 3


def test_every_probe_set_reads_whole_and_its_gold_answers_grade_as_right():
    """The four committed sets: ids unique, one group column, and each gold answer, boxed
    as a model writes it, graded right (reasoning-gym's golds come `$`-wrapped)."""
    paths = sorted((REPO / "benchmarks").glob("probe_*.jsonl"))
    assert [path.stem for path in paths] == [
        "probe_deepmind",
        "probe_problems",
        "probe_procedural",
        "probe_reasoning_gym",
    ]
    for path in paths:
        rows = transfer_probe.read_set(path, per_group=None)
        assert len({row["uuid"] for row in rows}) == len(rows) == len(path.read_text().splitlines())
        assert "all" not in {row["group"] for row in rows}
        texts = [f"The answer is $\\boxed{{{row['answer'].strip('$')}}}$." for row in rows]
        graded = transfer_probe.grade_set(rows, texts)
        assert [record["answer"] for record in graded if not record["correct"]] == []
