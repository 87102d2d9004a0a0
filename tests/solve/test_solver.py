"""`mathtune solve` end to end on the tiny model: one problem streamed, a file answered as
the evaluate stage answers it, and bad input stopped with one line, status 2, nothing written."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from conftest import TINY_PROBLEMS, child_env, model_params, save_random_adapter, write_jsonl
from mathtune.__main__ import main
from mathtune.core.params import build_params
from mathtune.eval.answers import generate_answers
from mathtune.eval.requests import Request
from mathtune.export.merge import describe_export, merge_adapter, save_merged
from mathtune.models.generation import Decoding
from mathtune.models.loading import load_tokenizer, locate_model
from mathtune.solve.predictions import SCHEMA

REPO = Path(__file__).resolve().parents[2]
GOLDS = ["5", "38", "3", "12", "42"]  # of TINY_PROBLEMS
NEW_TOKENS, BATCH = 8, 3


def repo_params(model_dir: Path) -> dict:
    """params.yaml with the tiny model in fp32 and short answers in batches of 3."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["model"].update(source="local", local_dir=str(model_dir), precision="fp32")
    params["evaluate"].update(max_new_tokens=NEW_TOKENS, batch_size=BATCH)
    return params


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, tiny_model_dir) -> Path:
    """A repository root as `make repro` leaves it: params, dvc.yaml, adapters, merged model."""
    root = tmp_path_factory.mktemp("solve")
    (root / "params.yaml").write_text(yaml.safe_dump(repo_params(tiny_model_dir)))
    (root / "dvc.yaml").symlink_to(REPO / "dvc.yaml")
    location = locate_model(model_params(source="local", local_dir=str(tiny_model_dir)))
    save_random_adapter(location, root / "models" / "adapter", seed=0)
    save_random_adapter(location, root / "models" / "grpo_adapter", seed=1)
    grpo = root / "models" / "grpo_adapter"
    record = describe_export(location, "grpo", grpo, "fp32")
    merged = merge_adapter(location, grpo)
    save_merged(merged, load_tokenizer(location), root / "models" / "merged", record)
    rows = [{"problem": p, "answer": a} for p, a in zip(TINY_PROBLEMS, GOLDS, strict=True)]
    write_jsonl(root / "problems.jsonl", rows)
    return root


def evaluate_answers(workdir: Path, adapter: str, problems: list[str] = TINY_PROBLEMS) -> list[str]:
    """What the evaluate stage's generation answers, with the workdir's params."""
    params = build_params(yaml.safe_load((workdir / "params.yaml").read_text()))
    folder = workdir / "models" / {"sft": "adapter", "grpo": "grpo_adapter"}[adapter]
    requests = [Request("file", problems, Decoding(NEW_TOKENS))]
    location = locate_model(params.model)
    answers = generate_answers(location, {adapter: folder}, requests, params.evaluate, "fp32")
    return [completions[0].text for completions in answers[adapter]["file"]]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_file_is_answered_graded_and_written_as_the_evaluate_stage_answers_it(
    workdir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(workdir)
    out = tmp_path / "predictions.jsonl"
    main(["solve", "--file", "problems.jsonl", "--model", "sft", "--out", str(out)])
    rows = read_jsonl(out)
    assert [row["problem"] for row in rows] == TINY_PROBLEMS
    assert [row["answer"] for row in rows] == GOLDS
    assert [row["generation"] for row in rows] == evaluate_answers(workdir, "sft")
    assert all(row["model"] == "sft" and row["truncated"] for row in rows), "random: never stops"
    assert all(isinstance(row["correct"], bool) for row in rows)
    assert list(rows[0]) == SCHEMA.names
    shown = capsys.readouterr().out
    assert "5 problems in" in shown and "problems/s" in shown
    assert "accuracy 0.0% ± 0.0% (standard error) over 5 graded problems" in shown


def test_the_merged_model_answers_as_its_adapter(workdir, tmp_path, monkeypatch):
    monkeypatch.chdir(workdir)
    outputs = {}
    for choice in ("grpo", "merged", "models/merged"):
        outputs[choice] = tmp_path / f"{choice.replace('/', '_')}.jsonl"
        main(
            ["solve", "--file", "problems.jsonl", "--model", choice, "--out", str(outputs[choice])]
        )
    texts = {
        choice: [row["generation"] for row in read_jsonl(path)] for choice, path in outputs.items()
    }
    assert texts["merged"] == texts["grpo"] == texts["models/merged"]
    assert texts["grpo"] == evaluate_answers(workdir, "grpo")


def test_without_answers_nothing_is_graded_and_parquet_follows_the_suffix(
    workdir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(workdir)
    write_jsonl(tmp_path / "questions.jsonl", [{"problem": p} for p in TINY_PROBLEMS[:2]])
    main(
        [
            "solve",
            "--file",
            str(tmp_path / "questions.jsonl"),
            "--model",
            "base",
            "--out",
            str(tmp_path / "answers.parquet"),
        ]
    )
    table = pq.read_table(tmp_path / "answers.parquet")
    assert table.schema == SCHEMA
    assert table.column("correct").to_pylist() == [None, None]
    assert "nothing graded" in capsys.readouterr().out


def test_the_default_output_sits_beside_the_problems(workdir, tmp_path, monkeypatch):
    monkeypatch.chdir(workdir)
    (tmp_path / "set.csv").write_text("problem,answer\nWhat is 2 + 3?,5\n")
    main(["solve", "--file", str(tmp_path / "set.csv"), "--model", "base"])
    assert (tmp_path / "set.predictions.csv").read_text().startswith(",".join(SCHEMA.names))


def test_one_problem_streams_its_reasoning_then_the_answer_and_grade(workdir):
    command = [sys.executable, "-m", "mathtune", "solve", TINY_PROBLEMS[0], "--model", "sft"]
    command += ["--answer", "5"]
    result = subprocess.run(command, cwd=workdir, env=child_env(), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    (expected,) = evaluate_answers(workdir, "sft", TINY_PROBLEMS[:1])
    reasoning, _, summary = result.stdout.rpartition("\nfinal answer: ")
    assert reasoning.strip() == expected.strip()
    assert summary.splitlines()[1] in ("grade: wrong (expected 5)", "grade: correct (expected 5)")
    assert summary.splitlines()[2] == f"(cut at {NEW_TOKENS} new tokens: --max-new allows more)"


def write_stale_adapter(source: Path, target: Path) -> None:
    target.mkdir()
    for item in source.iterdir():
        (target / item.name).write_bytes(item.read_bytes())
    config = json.loads((target / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = "hub:Qwen/Qwen2.5-0.5B@060db64"
    (target / "adapter_config.json").write_text(json.dumps(config))


BAD_INPUTS = [
    # an empty problem on the command line
    (["solve", "  "], "the problem is empty. Fix: pass its text"),
    # a file whose problems are in a `question` column
    (["solve", "--file", "{tmp}/questions.jsonl"], "has no `problem` column .*question.*Fix"),
    # a blank problem in the middle of a CSV file
    (["solve", "--file", "{tmp}/blank.csv"], "blank.csv line 3: the problem is empty. Fix"),
    # a folder that holds no model
    (["solve", "x", "--model", "{tmp}"], "is not a model: .*Fix: pass base, sft"),
    # a name that is neither a model nor a folder
    (["solve", "x", "--model", "gpt5"], "--model gpt5 is not base, sft, grpo, merged nor a folder"),
    # an adapter trained on another base than params.yaml selects
    (["solve", "x", "--model", "{tmp}/stale"], "was trained on 'hub:Qwen.*Fix: rerun training"),
    # predictions in a format that is not written
    (["solve", "--file", "problems.jsonl", "--out", "{tmp}/p.txt"], "cannot write .txt. Fix"),
]


@pytest.mark.parametrize("argv, message", BAD_INPUTS)
def test_bad_input_stops_with_one_line_naming_the_fix_and_writes_nothing(
    argv, message, workdir, tmp_path, monkeypatch, capsys
):
    write_jsonl(tmp_path / "questions.jsonl", [{"question": "What is 2 + 3?"}])
    (tmp_path / "blank.csv").write_text("problem,answer\nWhat is 2 + 3?,5\n ,4\n")
    write_stale_adapter(workdir / "models" / "adapter", tmp_path / "stale")
    monkeypatch.chdir(workdir)
    before = sorted(path for path in workdir.rglob("*")) + sorted(tmp_path.rglob("*"))
    with pytest.raises(SystemExit) as stopped:
        main([part.format(tmp=tmp_path) for part in argv])
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("solve failed: ")
    assert re.search(message, line), line
    assert sorted(workdir.rglob("*")) + sorted(tmp_path.rglob("*")) == before
