"""The package's architecture: one room per pipeline step, and who may import whom.

Step packages (one per stage) build on shared ones and never import each other, so a step
can change without touching another and `dvc.yaml` reruns only what it should; shared
packages form layers, each importing only those below it. `__init__.py` files import
nothing, so that importing one module never loads its siblings (and every stage's deps
stay exact). Tests mirror the packages.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "mathtune"

# Shared packages and what each may import besides itself.
SHARED = {
    "core": set(),
    "grading": {"core"},
    "curriculum": {"core"},
    "models": {"core"},
    "training": {"core", "models"},
}
# Step packages, named after what they do for their stage (dvc.yaml key in brackets), and
# the tools built on the pipeline's results; both import shared packages only. `solve` is
# the step of the `mathtune solve` command, not a stage.
STEPS = {"data", "sft", "rl", "eval", "export", "solve"}  # prepare, train, grpo, evaluate, export
TOOLS = {"experiments"}  # mathtune experiments table|report|queue


def subpackages() -> list[str]:
    return sorted(path.parent.name for path in PACKAGE.glob("*/__init__.py"))


def imported_subpackages(path: Path) -> set[str]:
    """The mathtune subpackages a module imports anywhere in it (functions included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "mathtune" and len(parts) > 1 and (PACKAGE / parts[1]).is_dir():
                found.add(parts[1])
    return found


def test_every_subpackage_is_a_step_a_tool_or_a_shared_layer():
    assert set(subpackages()) == STEPS | TOOLS | set(SHARED)
    top_level = {path.name for path in PACKAGE.glob("*.py")} - {"__init__.py", "__main__.py"}
    assert not top_level, "modules belong in a subpackage; __main__.py only dispatches commands"


def test_the_command_dispatcher_imports_only_steps_tools_and_core():
    assert imported_subpackages(PACKAGE / "__main__.py") <= STEPS | TOOLS | {"core"}


@pytest.mark.parametrize("package", sorted(STEPS | TOOLS | set(SHARED)))
def test_packages_import_only_what_their_layer_allows(package):
    allowed = {package} | (SHARED[package] if package in SHARED else set(SHARED))
    for path in sorted((PACKAGE / package).glob("*.py")):
        wrong = imported_subpackages(path) - allowed
        assert not wrong, f"{path.relative_to(REPO)} imports mathtune.{', '.join(sorted(wrong))}"


def test_init_files_hold_a_docstring_and_import_nothing():
    for path in sorted(PACKAGE.rglob("__init__.py")):
        body = ast.parse(path.read_text()).body
        assert body and isinstance(body[0], ast.Expr), f"{path} needs a docstring"
        assert len(body) == 1, f"{path} must hold its docstring only"


# Modules whose behaviour another test file covers, and which one.
TESTED_TOGETHER = {
    **{
        f"curriculum/{area}.py": "curriculum/test_registry.py"  # every family, one way
        for area in ("algebra", "arithmetic", "fractions", "geometry", "number_theory")
        + ("problems", "rates", "word_problems")
    },
    "grading/worker.py": "grading/test_pool.py",  # what the pool's workers import first
}


# Test files of a behaviour that spans a package's modules rather than one module.
BEHAVIOUR_TESTS = {
    "grading/test_contexts.py",  # grading from a thread, a daemonic worker, accelerate, ...
    "grading/test_determinism.py",  # the same verdicts idle, busy and with any worker count
}


def test_tests_mirror_the_packages():
    tests = REPO / "tests"
    for package in sorted(STEPS | TOOLS | set(SHARED)):
        for path in sorted((tests / package).glob("test_*.py")):
            module = PACKAGE / package / path.name.removeprefix("test_")
            known = module.is_file() or f"{package}/{path.name}" in BEHAVIOUR_TESTS
            assert known, f"{path.relative_to(REPO)} names no module of mathtune"
        for path in sorted((PACKAGE / package).glob("*.py")):
            name = f"{package}/{path.name}"
            expected = TESTED_TOGETHER.get(name, f"{package}/test_{path.name}")
            if path.name != "__init__.py":
                assert (tests / expected).is_file(), f"mathtune/{name} has no tests/{expected}"
