"""The launcher: plain python for one process, accelerate launch for more, the checks
that stop a launch that cannot work, mimalloc, and the multi-node scripts."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest
import yaml

from conftest import REPO, child_env
from mathtune.core.launch import (
    LaunchError,
    Machines,
    allocator_environment,
    build_command,
    check_launch,
    checkout_environment,
    vllm_parallel_options,
)
from mathtune.core.params import VllmParallelParams


def test_one_process_runs_plain_python_and_more_run_accelerate_launch():
    script = ["stages/train.py", "--train", "t.parquet"]
    assert build_command(1, "ddp", Machines(), script) == [sys.executable, *script]
    command = build_command(4, "zero3", Machines(), script)
    assert command[:3] == [sys.executable, "-m", "accelerate.commands.launch"]
    assert "--config_file configs/accelerate/zero3.yaml --num_processes 4" in " ".join(command)
    assert command[-3:] == script


def test_several_machines_pass_rank_and_main_address():
    machines = Machines(count=2, rank=1, main_address="10.0.0.1", main_port=29600)
    command = " ".join(build_command(16, "fsdp", machines, ["stages/train.py"]))
    assert "--num_processes 16 --num_machines 2 --machine_rank 1" in command
    assert "--main_process_ip 10.0.0.1 --main_process_port 29600" in command


@pytest.mark.parametrize(
    "processes, strategy, machines, gpus, message",
    [
        # more processes per machine than GPUs
        (4, "ddp", Machines(), 2, "4 processes per machine but this machine has 2 GPUs"),
        (16, "ddp", Machines(count=2, main_address="h"), 4, "Fix: at most 8 processes"),
        # processes that do not split over the machines
        (3, "ddp", Machines(count=2, main_address="h"), 8, "does not split evenly over 2"),
        # sharding strategies need GPUs
        (2, "fsdp", Machines(), 0, "launch.strategy: ddp"),
    ],
)
def test_impossible_launches_are_refused_naming_the_fix(
    processes, strategy, machines, gpus, message
):
    with pytest.raises(LaunchError, match=re.escape(message)):
        check_launch(processes, strategy, machines, gpus)


def test_one_process_needs_no_check_and_ddp_runs_on_cpu():
    check_launch(1, "zero3", Machines(), gpus=0)
    check_launch(2, "ddp", Machines(), gpus=0)


def test_vllm_sizes_become_engine_options_when_the_gpus_suffice():
    sizes = VllmParallelParams(tensor_parallel_size=2, data_parallel_size=4)
    assert vllm_parallel_options(sizes, gpus=8) == {
        "tensor_parallel_size": 2,
        "data_parallel_size": 4,
    }
    with pytest.raises(LaunchError, match=re.escape("2 x 4 = 8 GPUs") + ".* has 4"):
        vllm_parallel_options(sizes, gpus=4)


def test_vllm_engine_runs_one_process_whatever_the_process_count(tmp_path):
    command = [sys.executable, "-m", "mathtune.core.launch", "--processes", "4", "--strategy"]
    command += ["zero3", "--engine", "vllm", "--", "-c", "print('one process')"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=child_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout == "one process\n", "no accelerate launch, no deepspeed check"


# The stage prints whether mimalloc is mapped into its process and its purge setting.
ALLOCATOR_PROBE = (
    "import os; print('libmimalloc' in open('/proc/self/maps').read(), "
    "os.environ.get('MIMALLOC_PURGE_DELAY'))"
)


@pytest.mark.parametrize(
    ("allocator", "expected"), [("mimalloc", "True -1\n"), ("system", "False None\n")]
)
def test_launcher_runs_the_stage_with_the_allocator_asked_for(tmp_path, allocator, expected):
    command = [
        sys.executable,
        "-m",
        "mathtune.core.launch",
        "--processes",
        "1",
        "--strategy",
        "ddp",
    ]
    command += ["--allocator", allocator, "--", "-c", ALLOCATOR_PROBE]
    env = {key: value for key, value in child_env().items() if key != "MIMALLOC_PURGE_DELAY"}
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected


def test_mimalloc_goes_before_libraries_already_preloaded():
    preload = allocator_environment("mimalloc", {"LD_PRELOAD": "/opt/libfoo.so"})["LD_PRELOAD"]
    first, second = preload.split(" ")
    assert first.endswith("libmimalloc.so") and Path(first).is_file()
    assert second == "/opt/libfoo.so"


def test_mimalloc_without_its_package_is_refused_naming_the_fix():
    with pytest.raises(LaunchError, match="not installed.*launch.allocator: system"):
        allocator_environment("mimalloc", {}, package="no-such-mimalloc-package")


@pytest.mark.skipif(find_spec("deepspeed") is not None, reason="deepspeed is installed here")
def test_launcher_stops_a_deepspeed_strategy_without_deepspeed_before_starting(tmp_path):
    command = [sys.executable, "-m", "mathtune.core.launch", "--processes", "2", "--strategy"]
    command += ["zero2", "--", str(REPO / "stages/train.py")]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=child_env())
    assert result.returncode == 2
    assert "launch failed: launch.strategy = 'zero2' needs deepspeed" in result.stderr
    assert "`make setup-gpu`" in result.stderr
    assert "launching:" not in result.stdout


PIPELINE_COMMANDS = ["dvc pull", "dvc exp run", "launch.num_processes=", "launch.strategy="]


def launcher_variables() -> set[str]:
    """The MATHTUNE_* variables mathtune.core.launch and mathtune.core.distributed read."""
    sources = [
        (REPO / "mathtune/core" / name).read_text() for name in ("launch.py", "distributed.py")
    ]
    return {name for text in sources for name in re.findall(r'"(MATHTUNE_[A-Z_]+)"', text)}


def test_slurm_script_parses_and_runs_the_pipeline_on_every_node():
    script = REPO / "scripts/slurm/pipeline.sbatch"
    checked = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    text = script.read_text()
    assert re.search(r"^#SBATCH --nodes=\d+$", text, flags=re.M)
    assert "exec srun --ntasks-per-node=1" in text, "one task per node runs the pipeline"
    for command in PIPELINE_COMMANDS + ['dvc exp push origin "$experiment"']:
        assert command in text
    exported = set(re.findall(r"export (MATHTUNE_[A-Z_]+)", text))
    assert exported == launcher_variables()


def test_skypilot_task_parses_and_runs_the_pipeline_on_every_node(tmp_path):
    task = yaml.safe_load((REPO / "sky/pipeline.yaml").read_text())
    assert task["num_nodes"] >= 2 and task["resources"]["accelerators"]
    assert task["envs"]["STRATEGY"] in ("ddp", "fsdp", "zero2", "zero3")
    assert "make setup setup-gpu" in task["setup"]
    (tmp_path / "run.sh").write_text(task["run"])
    checked = subprocess.run(["bash", "-n", str(tmp_path / "run.sh")], capture_output=True)
    assert checked.returncode == 0, checked.stderr
    for command in PIPELINE_COMMANDS + ['dvc exp push origin "$EXPERIMENT"']:
        assert command in task["run"]
    assert '[ "$SKYPILOT_NODE_RANK" = 0 ]' in task["run"], "node 0 alone pushes"
    assert set(re.findall(r"export (MATHTUNE_[A-Z_]+)", task["run"])) == launcher_variables()


def test_the_stage_imports_the_package_of_the_checkout_it_runs_in(tmp_path):
    """As in a DVC queue's copy of the repository: its own mathtune, not the installed one."""
    package = tmp_path / "mathtune"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "core").symlink_to(REPO / "mathtune" / "core")
    probe = tmp_path / "probe.py"
    probe.write_text("import mathtune; print(mathtune.__file__)\n")
    command = [sys.executable, "-m", "mathtune.core.launch", "--processes", "1"]
    command += ["--strategy", "ddp", "--", str(probe)]
    environment = {key: value for key, value in child_env().items() if key != "PYTHONPATH"}
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(package / "__init__.py")


def test_checkout_comes_before_any_pythonpath_already_set():
    environment = checkout_environment({"PYTHONPATH": "/opt/lib"}, Path("/repo"))
    assert environment == {"PYTHONPATH": "/repo:/opt/lib"}
