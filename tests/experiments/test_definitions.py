"""Experiment definitions: refused before anything runs when they could only fail later."""

from __future__ import annotations

import doctest

import pytest

import mathtune.experiments.definitions
from conftest import REPO
from mathtune.experiments.definitions import (
    Definition,
    check_definitions,
    read_definitions,
    select,
)
from mathtune.experiments.records import ExperimentsError

PARAMS = REPO / "params.yaml"


def test_doctests_pass():
    assert doctest.testmod(mathtune.experiments.definitions).failed == 0


def test_the_repository_definitions_are_valid_and_queue_with_dvc():
    definitions = read_definitions(REPO / "experiments.yaml")
    assert len(definitions) >= 10
    for definition in definitions:
        assert definition.queued()[:4] == ["dvc", "exp", "run", "--queue"]


@pytest.mark.parametrize(
    "run, message",
    [
        ("dvc exp run -n x -S train.lr_max=1e-3", "params.yaml has no key 'train.lr_max'"),
        ("dvc exp run -n x -S train.lr=-1", r"train.lr = -1 is not allowed: must be > 0"),
        ("dvc exp run -n x -S train.lr=1e-3,0", r"train.lr = 0 is not allowed"),  # one of a sweep
        ("dvc exp run -n x -S model.nope.deeper=1", "params.yaml has no key 'model.nope.deeper'"),
        ("dvc exp run -n y -S train.lr=1e-3", "run must be `dvc exp run ... -n x"),  # name differs
        ("python train.py", "run must be `dvc exp run"),
    ],
)  # fmt: skip
def test_a_definition_that_would_fail_later_is_refused_now(run, message):
    with pytest.raises(ExperimentsError, match=message):
        check_definitions([Definition("x", "a try", run)], PARAMS)


def test_a_list_value_and_a_sweep_are_each_checked_as_dvc_reads_them():
    grid = Definition("x", "", "dvc exp run -n x -S 'train.lora.target_modules=[q_proj,v_proj]'")
    check_definitions([grid], PARAMS)
    assert grid.settings() == [("train.lora.target_modules", "[q_proj,v_proj]")]


def test_names_are_unique_and_selected_in_file_order():
    first, second = Definition("a", "", "dvc exp run -n a"), Definition("b", "", "dvc exp run -n b")
    with pytest.raises(ExperimentsError, match=r"names \['a'\] more than once"):
        check_definitions([first, first], PARAMS)
    assert select([first, second], []) == [first, second]
    assert select([first, second], ["b"]) == [second]
    with pytest.raises(ExperimentsError, match=r"no experiment named \['c'\].*known: a, b"):
        select([first, second], ["c"])


def test_a_file_that_is_not_a_list_of_entries_says_so(tmp_path):
    path = tmp_path / "experiments.yaml"
    path.write_text("lr: dvc exp run -S train.lr=1e-3\n")
    with pytest.raises(ExperimentsError, match="must be a list of entries with name, why and run"):
        read_definitions(path)
