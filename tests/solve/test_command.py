"""The arguments of `mathtune solve`: contradictions are usage errors (status 2), and the
help answers without loading model code."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import child_env
from mathtune.__main__ import main


@pytest.mark.parametrize(
    "argv, message",
    [
        (["solve"], "give one problem or --file, not both and not neither"),
        (["solve", "2 + 3?", "--file", "p.jsonl"], "give one problem or --file"),
        (["solve", "2 + 3?", "--out", "p.jsonl"], "--out goes with --file"),
        (["solve", "--file", "p.jsonl", "--answer", "5"], "--answer goes with one problem"),
        (["solve", "2 + 3?", "--temperature", "0.7"], "--temperature and --seed go with --sample"),
        (["solve", "2 + 3?", "--max-new", "0"], "--max-new: .*must be > 0"),
        (["solve", "2 + 3?", "--batch-size", "two"], "invalid int value: 'two'"),
        (["solve", "2 + 3?", "--sample", "--temperature", "-1"], "must be > 0, got -1"),
    ],
)
def test_contradicting_arguments_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert re.search(message, capsys.readouterr().err)


def test_help_lists_the_options_without_loading_model_code():
    script = (
        "import sys\n"
        "from mathtune.__main__ import main\n"
        "try:\n    main(['solve', '--help'])\n"
        "except SystemExit:\n    pass\n"
        "print(sorted({'torch', 'transformers'} & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=child_env()
    )
    assert result.returncode == 0, result.stderr
    for option in ("--file", "--model", "--answer", "--max-new", "--sample", "--out"):
        assert option in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"
