"""Experiment definitions: the settings worth comparing, as the `dvc exp run` commands that
run them, kept in experiments.yaml so that anyone can queue and rerun them.

One entry:

    - name: lr-1e-3
      why: half the default learning rate
      run: dvc exp run --queue -n lr-1e-3 -S train.lr=1e-3

`check_definitions` refuses, before anything runs, a command that is not `dvc exp run`, a
name that differs from the command's `-n`, a param that params.yaml lacks and a value the
params would refuse (each value of a sweep `-S train.lr=5e-4,1e-3`); `queue_definitions`
queues the commands (`dvc queue start` then runs them one after another).
"""

from __future__ import annotations

import copy
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mathtune.core.params import ParamsError, ParamsLoader, build_params
from mathtune.experiments.records import ExperimentsError

DEFINITIONS_FILE = Path("experiments.yaml")
COMMAND = ["dvc", "exp", "run"]


@dataclass(frozen=True)
class Definition:
    name: str
    why: str
    run: str

    @property
    def arguments(self) -> list[str]:
        return shlex.split(self.run)

    def settings(self) -> list[tuple[str, str]]:
        """The command's `-S key=value` pairs (value as written: one value or a sweep)."""
        words = self.arguments
        pairs = [words[i + 1] for i, word in enumerate(words[:-1]) if word in ("-S", "--set-param")]
        return [tuple(pair.split("=", 1)) for pair in pairs]  # type: ignore[misc]

    def queued(self) -> list[str]:
        """The command with `--queue`: it waits for `dvc queue start` instead of running now."""
        words = self.arguments
        return words if "--queue" in words else [*words[:3], "--queue", *words[3:]]


def read_definitions(path: Path = DEFINITIONS_FILE) -> list[Definition]:
    """The definitions of `path`, each checked (see `check_definitions`)."""
    if not path.is_file():
        raise ExperimentsError(f"{path} not found: run this from the repository root.")
    try:
        raw = yaml.safe_load(path.read_text()) or []
    except yaml.YAMLError as err:
        raise ExperimentsError(f"{path} is not valid YAML: {err}") from err
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ExperimentsError(f"{path} must be a list of entries with name, why and run.")
    try:
        definitions = [Definition(**item) for item in raw]
    except TypeError as err:
        raise ExperimentsError(f"{path}: {err}. Fix: give each entry name, why and run.") from err
    check_definitions(definitions, Path(path).parent / "params.yaml")
    return definitions


def check_definitions(definitions: list[Definition], params_path: Path) -> None:
    """Refuse a definition that would fail only once its experiment runs."""
    defaults = yaml.load(params_path.read_text(), Loader=ParamsLoader)
    names = [definition.name for definition in definitions]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ExperimentsError(f"experiments.yaml names {repeated} more than once.")
    for definition in definitions:
        words = definition.arguments
        if words[:3] != COMMAND or _option(words, "-n") != definition.name:
            raise ExperimentsError(
                f"experiments.yaml: {definition.name}: run must be `dvc exp run ... -n "
                f"{definition.name} -S key=value ...`, got {definition.run!r}."
            )
        for key, value in definition.settings():
            for single in _sweep_values(value):
                _check_setting(definition.name, defaults, key, single)


def queue_definitions(definitions: list[Definition], repo: Path) -> list[str]:
    """Queue each definition's command in `repo`; return the names queued."""
    for definition in definitions:
        result = subprocess.run(definition.queued(), cwd=repo, capture_output=True, text=True)
        if result.returncode != 0:
            raise ExperimentsError(
                f"`{shlex.join(definition.queued())}` failed: {result.stderr.strip()[-500:]}"
            )
    return [definition.name for definition in definitions]


def select(definitions: list[Definition], names: list[str]) -> list[Definition]:
    """The definitions named (all of them when `names` is empty), in file order."""
    unknown = sorted(set(names) - {definition.name for definition in definitions})
    if unknown:
        known = ", ".join(definition.name for definition in definitions)
        raise ExperimentsError(f"no experiment named {unknown} in experiments.yaml; known: {known}")
    return [d for d in definitions if not names or d.name in names]


def _check_setting(name: str, defaults: dict[str, Any], key: str, value: str) -> None:
    raw = copy.deepcopy(defaults)
    *parents, leaf = key.split(".")
    section = raw
    for parent in parents:
        if not isinstance(section.get(parent), dict):
            raise ExperimentsError(f"experiments.yaml: {name}: params.yaml has no key {key!r}.")
        section = section[parent]
    if leaf not in section:
        raise ExperimentsError(f"experiments.yaml: {name}: params.yaml has no key {key!r}.")
    section[leaf] = yaml.load(value, Loader=ParamsLoader)  # DVC reads -S values as YAML too
    try:
        build_params(raw)
    except ParamsError as err:
        raise ExperimentsError(f"experiments.yaml: {name}: {err}") from err


def _sweep_values(value: str) -> list[str]:
    """The values of `-S key=a,b` (DVC's sweep), a bracketed list being one value.

    >>> _sweep_values("5e-4,1e-3"), _sweep_values("[q_proj,v_proj]")
    (['5e-4', '1e-3'], ['[q_proj,v_proj]'])
    """
    return [value] if value.startswith("[") else value.split(",")


def _option(words: list[str], flag: str) -> str | None:
    return next((words[i + 1] for i, word in enumerate(words[:-1]) if word == flag), None)
