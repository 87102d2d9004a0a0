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
DVC_YAML = yaml.safe_load((REPO / "dvc.yaml").read_text())
PIPELINE = DVC_YAML["stages"]

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
    if "${launch.strategy}" in spec["cmd"]:  # the accelerate config it names is a dep
        assert "configs/accelerate" in spec["deps"]
    assert declared == expected


def git_outputs() -> set[str]:
    """Outputs of any stage kept in git (`cache: false`) rather than in the DVC cache."""
    return {
        path
        for spec in PIPELINE.values()
        for section in ("outs", "metrics", "plots")
        for entry in spec.get(section, [])
        if isinstance(entry, dict)
        for path, options in entry.items()
        if options.get("cache") is False
    }


def test_metrics_plots_and_reports_stay_in_git():
    plots = [
        path for spec in PIPELINE.values() for entry in spec.get("plots", []) for path in entry
    ]
    reports = [
        path
        for spec in PIPELINE.values()
        for entry in spec.get("outs", [])
        for path in (entry if isinstance(entry, dict) else [entry])
        if path.startswith("reports/")
    ]
    assert set(DVC_YAML["metrics"]) | set(plots) | set(reports) <= git_outputs()


def test_the_declared_metrics_are_the_headline_accuracies_first():
    """At most 16 columns in `dvc exp show`, led by the accuracies (mathtune/eval/metrics.py)."""
    assert DVC_YAML["metrics"] == ["metrics/eval.json", "metrics/train.json", "metrics/grpo.json"]
    assert not [stage for stage, spec in PIPELINE.items() if "metrics" in spec], (
        "declared once, at the top, so that their order is the columns' order"
    )


def test_evaluate_depends_on_every_probe_set_it_scores():
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    files = params["evaluate"]["probe_sets"]
    assert files and set(files) <= set(PIPELINE["evaluate"]["deps"])


def test_prepare_depends_on_every_file_it_decontaminates_against():
    """Editing a benchmark file changes which training rows survive: prepare must rerun."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    files = params["prepare"]["decontaminate_against"]
    assert files, "the default decontaminates against the probe sets"
    assert set(files) <= set(PIPELINE["prepare"]["deps"])
