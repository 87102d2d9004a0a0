"""dvc.yaml declares, for each stage, exactly the package modules its script imports.

A module missing from `deps` means editing it would not rerun the stage (stale results);
an extra one means needless reruns.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
PIPELINE = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]

# The stage's imports, and what its grading worker processes import first (the pool's
# PRELOAD): those run on the stage's behalf, so editing them must rerun it too.
LIST_IMPORTED_MODULES = """
import importlib, importlib.util, json, sys
if sys.argv[1].endswith(".py"):
    spec = importlib.util.spec_from_file_location("stage", sys.argv[1])
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
else:
    importlib.import_module(sys.argv[1])
pool = sys.modules.get("mathtune.grading.pool")
for name in getattr(pool, "PRELOAD", []):
    importlib.import_module(name)
print(json.dumps(sorted(
    module.__file__ for name, module in sys.modules.items()
    if name.startswith("mathtune.") and getattr(module, "__file__", None)
)))
"""


def imported_package_modules(script: Path | str) -> set[str]:
    """Package modules loaded by running a script (a path) or importing a module (a name)."""
    result = subprocess.run(
        [sys.executable, "-c", LIST_IMPORTED_MODULES, str(script)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    # the last line: libraries may print their own notices on import (wandb does, offline)
    paths = json.loads(result.stdout.strip().splitlines()[-1])
    return {str(Path(path).resolve().relative_to(REPO)) for path in paths}


LAUNCHER = ["python", "-m", "mathtune.core.launch"]


@pytest.mark.parametrize("stage", sorted(PIPELINE))
def test_stage_deps_list_exactly_the_modules_it_imports(stage):
    spec = PIPELINE[stage]
    script = f"stages/{stage}.py"
    words = spec["cmd"].split()
    launched = words[:3] == LAUNCHER
    # Either `python stages/<stage>.py ...` or the launcher with `-- stages/<stage>.py ...`.
    assert words[:2] == ["python", script] or (launched and script in words), "stage = script"
    declared = {dep for dep in spec["deps"] if dep.startswith("mathtune/")}
    assert script in spec["deps"]
    expected = imported_package_modules(REPO / script)
    if launched:
        expected |= imported_package_modules("mathtune.core.launch")
        assert "configs/accelerate" in spec["deps"]
    assert declared == expected


@pytest.mark.parametrize("stage", sorted(PIPELINE))
def test_metrics_and_plots_stay_in_git(stage):
    for section in ("metrics", "plots"):
        for entry in PIPELINE[stage].get(section, []):
            (options,) = entry.values()
            assert options["cache"] is False, f"{stage}: {entry} must be kept in git"


def test_prepare_depends_on_every_file_it_decontaminates_against():
    """Editing a benchmark file changes which training rows survive: prepare must rerun."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    files = params["prepare"]["decontaminate_against"]
    assert files, "the default decontaminates against the probe sets"
    assert set(files) <= set(PIPELINE["prepare"]["deps"])
