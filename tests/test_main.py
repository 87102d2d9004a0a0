"""The `mathtune` command: its console script, its subcommands, its exit status."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import child_env
from mathtune.__main__ import build_parser, main

REPO = Path(__file__).resolve().parents[1]


def test_the_console_script_runs_main():
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, function = scripts["mathtune"].partition(":")
    assert getattr(importlib.import_module(module), function) is main


def test_every_subcommand_is_listed_and_runnable():
    subparsers = build_parser()._subparsers._group_actions[0]
    assert list(subparsers.choices) == ["solve", "experiments"]
    for parser in subparsers.choices.values():
        assert callable(parser.get_default("run"))


def test_no_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stopped:
        main([])
    assert stopped.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_python_dash_m_runs_the_command():
    result = subprocess.run(
        [sys.executable, "-m", "mathtune", "--help"],
        capture_output=True,
        text=True,
        env=child_env(),
    )
    assert result.returncode == 0 and "solve" in result.stdout
