"""Start a stage script on one process (plain python) or many (accelerate launch).

dvc.yaml runs every stage through this module, those that can use several processes with
the launch params templated in by DVC:

    python -m mathtune.core.launch --processes ${launch.num_processes} \
        --strategy ${launch.strategy} -- stages/train.py --train ...

One process execs `python stages/train.py ...` as before. More run `accelerate launch
--config_file configs/accelerate/<strategy>.yaml --num_processes N stages/train.py ...`,
after checks that stop a launch that cannot work, naming the fix: a strategy whose package
is missing, more processes than GPUs, FSDP or DeepSpeed on a machine without a GPU.

`--allocator mimalloc` (launch.allocator) runs the stage's processes with mimalloc preloaded
and told to keep the memory it frees. Padding-free batches have new shapes every step; with
glibc's malloc the train stage's steps slowed over a run (4.1 to 5.3 s in 40 steps on a
2-core CPU) as the process grew to 7 GB, and with mimalloc's default, which returns freed
memory to the OS, the kernel spent a quarter of the time zero-filling pages it gave back.
Kept, the memory is reused as it is: the same numbers, only faster.

Either way the stage imports the mathtune package of the checkout it runs in
(`checkout_environment`), which matters where DVC runs it in a copy of the repository.

Several machines: set MATHTUNE_NUM_MACHINES, MATHTUNE_MACHINE_RANK, MATHTUNE_MAIN_ADDRESS
(and MATHTUNE_MAIN_PORT, default 29500) on each; `--processes` counts all machines together.
scripts/slurm/pipeline.sbatch and sky/pipeline.yaml set them.
"""

from __future__ import annotations

import argparse
import os
import sys
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from importlib.util import find_spec
from pathlib import Path

from mathtune.core.errors import MathtuneError, exit_on_error
from mathtune.core.params import Allocator, Strategy, VllmParallelParams

CONFIG_DIR = Path("configs/accelerate")
STRATEGIES = typing.get_args(Strategy)
ALLOCATORS = typing.get_args(Allocator)
MIMALLOC_PACKAGE = "cmeel-mimalloc"  # the PyPI wheel that ships libmimalloc.so
MIMALLOC_LIBRARY = "cmeel.prefix/lib/libmimalloc.so"  # its path inside site-packages
# Packages a strategy needs beyond requirements.txt (torch ships DDP and FSDP).
STRATEGY_PACKAGES = {"zero2": "deepspeed", "zero3": "deepspeed"}
# Backends that start their own GPU workers (launch.vllm sizes), so the stage runs once.
SELF_PARALLEL_ENGINES = ("vllm",)


class LaunchError(MathtuneError):
    """The launch cannot work as asked; the message says the fix."""


@dataclass(frozen=True)
class Machines:
    """Where the processes run: `count` machines, this one being number `rank`."""

    count: int = 1
    rank: int = 0
    main_address: str | None = None
    main_port: int = 29500

    @classmethod
    def from_environment(cls) -> Machines:
        count = int(os.environ.get("MATHTUNE_NUM_MACHINES", "1"))
        address = os.environ.get("MATHTUNE_MAIN_ADDRESS")
        if count > 1 and not address:
            raise LaunchError(
                f"MATHTUNE_NUM_MACHINES = {count} but MATHTUNE_MAIN_ADDRESS is not set. "
                "Fix: export the address of the machine of rank 0 on every machine."
            )
        return cls(
            count=count,
            rank=int(os.environ.get("MATHTUNE_MACHINE_RANK", "0")),
            main_address=address,
            main_port=int(os.environ.get("MATHTUNE_MAIN_PORT", "29500")),
        )


def check_launch(processes: int, strategy: str, machines: Machines, gpus: int) -> None:
    """Stop a multi-process launch that cannot work, before anything starts."""
    if processes == 1:
        return
    package = STRATEGY_PACKAGES.get(strategy)
    if package and find_spec(package) is None:
        raise LaunchError(
            f"launch.strategy = {strategy!r} needs {package}, which is not installed. Fix: "
            "`make setup-gpu` (requirements-gpu.txt) on a machine with NVIDIA GPUs, or set "
            "launch.strategy: ddp."
        )
    if processes % machines.count:
        raise LaunchError(
            f"launch.num_processes = {processes} does not split evenly over {machines.count} "
            "machines. Fix: a multiple of the machine count (processes count all machines)."
        )
    per_machine = processes // machines.count
    if gpus and per_machine > gpus:
        raise LaunchError(
            f"launch.num_processes = {processes} asks for {per_machine} processes per machine "
            f"but this machine has {gpus} GPUs. Fix: at most {gpus * machines.count} processes."
        )
    if not gpus and strategy != "ddp":
        raise LaunchError(
            f"launch.strategy = {strategy!r} shards the model over GPUs and this machine has "
            "none. Fix: launch.strategy: ddp (processes on CPU talk over gloo)."
        )


def vllm_parallel_options(vllm: VllmParallelParams, gpus: int) -> dict[str, int]:
    """Keyword arguments of vllm.LLM for launch.vllm, once they fit the GPUs here."""
    needed = vllm.tensor_parallel_size * vllm.data_parallel_size
    if needed > gpus:
        raise LaunchError(
            f"launch.vllm asks for {vllm.tensor_parallel_size} x {vllm.data_parallel_size} = "
            f"{needed} GPUs (tensor_parallel_size x data_parallel_size) and this machine has "
            f"{gpus}. Fix: sizes whose product is at most {gpus}."
        )
    return {
        "tensor_parallel_size": vllm.tensor_parallel_size,
        "data_parallel_size": vllm.data_parallel_size,
    }


def allocator_environment(
    allocator: str, environ: Mapping[str, str], package: str = MIMALLOC_PACKAGE
) -> dict[str, str]:
    """Variables that make the stage's processes, and those they start, use `allocator`."""
    if allocator == "system":
        return {}
    library = _installed_file(package, MIMALLOC_LIBRARY)
    if library is None or not sys.platform.startswith("linux"):
        raise LaunchError(
            f"launch.allocator = 'mimalloc' needs Linux and the {package} package "
            f"({sys.platform}, package {'found' if library else 'not installed'}). Fix: "
            "`pip install -r requirements.txt` on Linux, or launch.allocator: system."
        )
    preload = " ".join(filter(None, [str(library), environ.get("LD_PRELOAD", "")]))
    # -1: never return freed memory to the OS, so the next step reuses it without page faults.
    return {"LD_PRELOAD": preload, "MIMALLOC_PURGE_DELAY": "-1"}


def _installed_file(package: str, relative_path: str) -> Path | None:
    """A file an installed distribution ships, or None when either is missing."""
    try:
        path = Path(distribution(package).locate_file(relative_path))
    except PackageNotFoundError:
        return None
    return path if path.is_file() else None


def build_command(
    processes: int, strategy: str, machines: Machines, script: list[str]
) -> list[str]:
    """The argv that runs `script` (a path and its arguments) on `processes` processes."""
    if processes == 1:
        return [sys.executable, *script]
    # On a machine without GPUs the MULTI_GPU config still starts N processes (via torchrun)
    # and they talk over gloo; `accelerate launch --cpu` would start only one.
    command = [sys.executable, "-m", "accelerate.commands.launch"]
    command += ["--config_file", str(CONFIG_DIR / f"{strategy}.yaml")]
    command += ["--num_processes", str(processes), "--num_machines", str(machines.count)]
    if machines.count > 1:
        command += ["--machine_rank", str(machines.rank)]
        command += ["--main_process_ip", str(machines.main_address)]
        command += ["--main_process_port", str(machines.main_port)]
    return command + script


def count_gpus() -> int:
    """CUDA devices visible here (0 on CPU machines)."""
    import torch  # imported here: --help and argument errors should not wait for torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, required=True, help="launch.num_processes")
    parser.add_argument("--strategy", choices=STRATEGIES, required=True, help="launch.strategy")
    parser.add_argument(
        "--allocator", choices=ALLOCATORS, default="system", help="launch.allocator"
    )
    parser.add_argument(
        "--engine", default=None, help="evaluate.backend: vllm parallelises itself, runs once"
    )
    parser.add_argument("script", nargs=argparse.REMAINDER, help="-- script.py and arguments")
    arguments = parser.parse_args(argv)
    arguments.script = arguments.script[1:] if arguments.script[:1] == ["--"] else arguments.script
    if not arguments.script:
        parser.error("name the stage script after --, e.g. -- stages/train.py --train ...")
    if arguments.processes < 1:
        parser.error(f"--processes must be >= 1, got {arguments.processes}")
    return arguments


def checkout_environment(environ: Mapping[str, str], checkout: Path) -> dict[str, str]:
    """PYTHONPATH that makes the stage import the package of the checkout it runs in.

    `make setup` installs mathtune in editable mode, pointing at the clone it ran in. A DVC
    queue runs each experiment in a copy of the repository (under .dvc/tmp/exps), whose
    stages must run the copy's code: the code of the experiment's commit, not the workspace's.
    """
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(checkout), environ.get("PYTHONPATH")]))}


def main(argv: list[str] | None = None) -> None:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    processes = 1 if arguments.engine in SELF_PARALLEL_ENGINES else arguments.processes
    with exit_on_error("launch"):
        machines = Machines.from_environment()
        check_launch(processes, arguments.strategy, machines, count_gpus() if processes > 1 else 0)
        environment = os.environ | allocator_environment(arguments.allocator, os.environ)
    environment |= checkout_environment(os.environ, Path.cwd())
    command = build_command(processes, arguments.strategy, machines, arguments.script)
    if processes > 1:
        print("launching:", " ".join(command), flush=True)
    # The stage takes this process's place: signals reach it.
    os.execve(command[0], command, environment)


if __name__ == "__main__":
    main()
