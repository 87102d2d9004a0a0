"""Many processes: sharding helpers, the launcher's checks, and real two-process runs on CPU.

The slow tests start real processes through `python -m mathtune.launch` (accelerate launch,
gloo backend) on the tiny model, and compare them with one process at the same effective
batch: for train, the loss curve and the adapter agree within fp32 rounding (TOLERANCE);
for grpo, each rank samples its own completions, so the runs agree in what they train on
(the prompts and completion count of every step), not in the weights they reach.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import test_grpo
import torch
import yaml
from safetensors.torch import load_file
from test_eval_sets import write_jsonl
from test_evaluate_stage import (
    ADAPTERS,
    inputs,  # noqa: F401 (a fixture: the evaluate stage's inputs)
)
from test_evaluate_stage import ARGUMENTS as EVALUATE_ARGUMENTS
from test_grpo import grpo_params
from test_training import make_rows, tiny_params, write_split

from mathtune import distributed
from mathtune.batching import BatchError, check_effective_batch, grpo_completions_per_device
from mathtune.curriculum import generate_row
from mathtune.distributed import batch_shard, map_batches, shard_indices
from mathtune.grpo_setup import GrpoPaths
from mathtune.launch import (
    LaunchError,
    Machines,
    allocator_environment,
    build_command,
    check_launch,
    vllm_parallel_options,
)
from mathtune.params import VllmParallelParams, params_as_dict

REPO = Path(__file__).resolve().parents[1]
grpo_inputs = test_grpo.grpo_inputs  # the session fixture: a train split and an SFT adapter
# fp32 on CPU: one process sums a batch of 4 where two sum 2 + 2 and all-reduce, so the
# float additions happen in another order; measured gaps were about 1e-6 (loss) and 3e-8
# (adapter weights).
TOLERANCE = dict(atol=1e-5, rtol=1e-5)
TRAIN_ARGUMENTS = {
    "--train": "train.parquet",
    "--validation": "validation.parquet",
    "--adapter-dir": "models/adapter",
    "--checkpoint-dir": "checkpoints/train",
    "--metrics": "metrics/train.json",
    "--plot": "plots/train_loss.csv",
    "--figure": "plots/train_loss.png",
}
ADAPTER_FILE = "adapter_model.safetensors"
WALL_CLOCK = {"train/runtime_s", "train/real_tokens_per_s"}
PROCESS_LINE = re.compile(r"process (\d) of (\d) \(pid (\d+)\)")
# A callback that kills rank 1 like SIGKILL after the step given as the first argument.
KILL_RANK_1_CALLBACK = """
class KillRank1(TrainerCallback):
    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == int(sys.argv[1]) and os.environ["RANK"] == "1":
            os._exit(9)
"""
# Runs the train stage's work with that callback.
KILL_RANK_1 = (
    """
import importlib.util, os, sys
from pathlib import Path
from transformers import TrainerCallback
# Load the stage's module (not its main): the same package modules, the same code fingerprint.
spec = importlib.util.spec_from_file_location("stage", sys.argv.pop(1))
spec.loader.exec_module(importlib.util.module_from_spec(spec))
from mathtune.params import load_params
from mathtune.training import TrainPaths, check_training, train_adapter
"""
    + KILL_RANK_1_CALLBACK
    + """
params = load_params()
paths = TrainPaths(*map(Path, sys.argv[2:]))
train_adapter(params, check_training(params), paths, None, [KillRank1()])
"""
)


# ---------------------------------------------------------------- helpers without processes


@pytest.mark.parametrize(
    "environment, writes, gpu",
    [
        ({}, True, 0),  # a plain run
        ({"RANK": "1", "LOCAL_RANK": "1"}, False, 1),  # second process of one machine
        ({"RANK": "2", "LOCAL_RANK": "0"}, False, 0),  # first process of the second machine
        ({"RANK": "2", "LOCAL_RANK": "0", "MATHTUNE_SAVE_ON_EACH_NODE": "1"}, True, 0),
        ({"RANK": "3", "LOCAL_RANK": "1", "MATHTUNE_SAVE_ON_EACH_NODE": "1"}, False, 1),
    ],
)
def test_rank_0_writes_unless_each_node_saves_and_each_process_has_its_own_gpu(
    monkeypatch, environment, writes, gpu
):
    for name in ("RANK", "LOCAL_RANK", "MATHTUNE_SAVE_ON_EACH_NODE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert distributed.writes_files() is writes
    assert distributed.local_rank() == gpu
    assert distributed.device() == (f"cuda:{gpu}" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize("count, shards", [(10, 2), (5, 2), (7, 3), (1, 2), (0, 2)])
def test_shards_are_contiguous_balanced_and_cover_every_item_once(count, shards):
    parts = [list(shard_indices(count, shards, shard)) for shard in range(shards)]
    assert [index for part in parts for index in part] == list(range(count))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


@pytest.mark.parametrize(
    "count, shards, expected",
    [
        (5, 2, [[0, 2, 4], [1, 3]]),
        (4, 2, [[0, 2], [1, 3]]),
        (7, 3, [[0, 3, 6], [1, 4], [2, 5]]),
        (1, 2, [[0], []]),
        (0, 2, [[], []]),
        (3, 1, [[0, 1, 2]]),
    ],
)
def test_batches_are_dealt_round_robin_each_to_one_rank(count, shards, expected):
    assert [list(batch_shard(count, shards, shard)) for shard in range(shards)] == expected


def test_each_rank_runs_its_round_robin_share_of_the_batches(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    assert list(distributed.my_batches(5)) == [1, 3]


def test_map_batches_in_one_process_runs_every_batch_in_order():
    assert map_batches(lambda index, batch: (index, 2 * batch), [5, 6, 7]) == [
        (0, 10),
        (1, 12),
        (2, 14),
    ]


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
    command = [sys.executable, "-m", "mathtune.launch", "--processes", "4", "--strategy"]
    command += ["zero3", "--engine", "vllm", "--", "-c", "print('one process')"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=_env())
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
    command = [sys.executable, "-m", "mathtune.launch", "--processes", "1", "--strategy", "ddp"]
    command += ["--allocator", allocator, "--", "-c", ALLOCATOR_PROBE]
    env = {key: value for key, value in _env().items() if key != "MIMALLOC_PURGE_DELAY"}
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
    command = [sys.executable, "-m", "mathtune.launch", "--processes", "2", "--strategy"]
    command += ["zero2", "--", str(REPO / "stages/train.py")]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=_env())
    assert result.returncode != 0
    assert "launch failed: launch.strategy = 'zero2' needs deepspeed" in result.stderr
    assert "`make setup-gpu`" in result.stderr
    assert "launching:" not in result.stdout


@pytest.mark.parametrize(
    "per_device, accumulation, processes, max_steps, examples, message",
    [
        (4, 2, 2, 10, 12, "(train.per_device_batch_size 4 x train.gradient_accumulation_steps"),
        (8, 1, 1, None, 4, "exceeds the 4 train examples"),
        # several processes reaching an epoch's end: must divide the examples
        (2, 1, 2, None, 10, "does not divide the 10 train examples"),
        (2, 1, 2, 3, 10, "train.max_steps <= 2"),
    ],
)
def test_effective_batch_that_exceeds_or_does_not_divide_the_data_is_refused(
    tiny_model_dir, per_device, accumulation, processes, max_steps, examples, message
):
    train = dataclasses.replace(
        tiny_params(tiny_model_dir).train,
        per_device_batch_size=per_device,
        gradient_accumulation_steps=accumulation,
        max_steps=max_steps,
    )
    with pytest.raises(BatchError, match=re.escape(message)):
        check_effective_batch(train, processes, examples)


def test_train_stage_stops_on_a_batch_larger_than_the_data_before_wandb(tmp_path, tiny_model_dir):
    workdir = train_workdir(tmp_path, tiny_model_dir, per_device=16)
    result = train_stage(workdir, processes=1)
    assert result.returncode != 0
    assert "train failed: The effective batch" in result.stderr
    assert "exceeds the 8 train examples" in result.stderr
    assert "Loading weights" not in result.stderr
    assert not (workdir / "wandb").exists() and not (workdir / "models").exists()


@pytest.mark.parametrize(
    "processes, max_steps, examples",
    [
        (1, None, 10),  # one process repeats nothing: its last step is just smaller
        (2, 2, 10),  # two steps of 4 end within the first epoch
        (2, None, 12),  # 4 divides 12
    ],
)
def test_effective_batch_that_fits_the_data_passes(tiny_model_dir, processes, max_steps, examples):
    train = dataclasses.replace(
        tiny_params(tiny_model_dir).train, per_device_batch_size=2, max_steps=max_steps
    )
    check_effective_batch(train, processes, examples)


@pytest.mark.parametrize(
    "prompts, generations, processes, per_device",
    [
        (2, 4, 1, 8),  # one process samples the whole step
        (2, 4, 2, 4),
        (2, 4, 8, 1),  # one completion per process: groups span processes
        (3, 2, 3, 2),
    ],
)
def test_grpo_processes_share_the_completions_of_a_step(
    tiny_model_dir, prompts, generations, processes, per_device
):
    grpo = grpo_params(
        tiny_model_dir, prompts_per_step=prompts, generations_per_prompt=generations
    ).grpo
    assert grpo_completions_per_device(grpo, processes) == per_device


def test_grpo_step_that_processes_cannot_share_is_refused_naming_the_fix(tiny_model_dir):
    grpo = grpo_params(tiny_model_dir, prompts_per_step=2, generations_per_prompt=4).grpo
    with pytest.raises(BatchError) as caught:
        grpo_completions_per_device(grpo, 3)
    message = str(caught.value)
    assert "grpo.generations_per_prompt 4 = 8 completions" in message
    assert "launch.num_processes 3 cannot share equally" in message
    assert "Fix: a process count that divides 8" in message


# ---------------------------------------------------------------- many nodes

PIPELINE_COMMANDS = ["dvc pull", "dvc exp run", "launch.num_processes=", "launch.strategy="]


def launcher_variables() -> set[str]:
    """The MATHTUNE_* variables mathtune.launch and mathtune.distributed read."""
    sources = [(REPO / "mathtune" / name).read_text() for name in ("launch.py", "distributed.py")]
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


# ---------------------------------------------------------------- real processes


def _env() -> dict[str, str]:
    """The child processes import this checkout's package and never touch a network."""
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return os.environ | {
        "PYTHONPATH": path,
        "HF_HUB_OFFLINE": "1",
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
    }


def launch(workdir: Path, processes: int, script: list[str]) -> subprocess.CompletedProcess:
    """`python -m mathtune.launch` in `workdir`, as dvc.yaml runs it."""
    if not (workdir / "configs").exists():
        (workdir / "configs").symlink_to(REPO / "configs")
    command = [sys.executable, "-m", "mathtune.launch", "--processes", str(processes)]
    command += ["--strategy", "ddp", "--", *script]
    return subprocess.run(command, cwd=workdir, env=_env(), capture_output=True, text=True)


def train_workdir(directory: Path, model_dir: Path, per_device: int, **train) -> Path:
    """A folder with params.yaml, 8 train and 4 validation rows; dropout off (rank-free RNG)."""
    directory.mkdir(parents=True, exist_ok=True)
    params = tiny_params(
        model_dir, lora_dropout=0.0, per_device_batch_size=per_device, **{"max_steps": 4} | train
    )
    params = dataclasses.replace(params, wandb=dataclasses.replace(params.wandb, mode="offline"))
    (directory / "params.yaml").write_text(yaml.safe_dump(params_as_dict(params)))
    write_split(directory / "train.parquet", make_rows(8))
    write_split(directory / "validation.parquet", make_rows(12)[8:])
    return directory


def train_stage(workdir: Path, processes: int) -> subprocess.CompletedProcess:
    arguments = [item for pair in TRAIN_ARGUMENTS.items() for item in pair]
    return launch(workdir, processes, [str(REPO / "stages/train.py"), *arguments])


def loss_curve(workdir: Path) -> torch.Tensor:
    lines = (workdir / TRAIN_ARGUMENTS["--plot"]).read_text().splitlines()[1:]
    return torch.tensor([[float(cell or "nan") for cell in line.split(",")] for line in lines])


def adapter(workdir: Path) -> dict[str, torch.Tensor]:
    return load_file(workdir / TRAIN_ARGUMENTS["--adapter-dir"] / "adapter_model.safetensors")


def metrics(workdir: Path) -> dict[str, float]:
    return json.loads((workdir / TRAIN_ARGUMENTS["--metrics"]).read_text())


@pytest.fixture(scope="module")
def train_runs(tmp_path_factory, tiny_model_dir) -> dict[int, tuple[Path, str]]:
    """The train stage on 1 process (batch 4) and on 2 (batch 2 each): folder and log."""
    folders = {
        processes: train_workdir(
            tmp_path_factory.mktemp(f"train-{processes}"), tiny_model_dir, per_device
        )
        for processes, per_device in ((1, 4), (2, 2))
    }
    return run_each(folders, train_stage)


def run_each(
    folders: dict[int, Path], stage: Callable[[Path, int], subprocess.CompletedProcess]
) -> dict[int, tuple[Path, str]]:
    """`stage` in each folder on its number of processes, which must succeed: folder and log."""
    runs = {}
    for processes, workdir in folders.items():
        result = stage(workdir, processes)
        assert result.returncode == 0, result.stderr[-3000:]
        runs[processes] = (workdir, result.stderr + result.stdout)
    return runs


def assert_two_processes_ran(log: str) -> None:
    """Ranks 0 and 1 of a world of 2 logged themselves, from two operating-system processes."""
    ranks = {(rank, pid) for rank, world, pid in PROCESS_LINE.findall(log) if world == "2"}
    assert {rank for rank, _ in ranks} == {"0", "1"}
    assert len({pid for _, pid in ranks}) == 2, "two operating-system processes"


@pytest.mark.slow
def test_two_processes_really_ran_with_the_effective_batch_recorded(train_runs):
    _, log = train_runs[2]
    assert_two_processes_ran(log)
    assert "accelerate.commands.launch --config_file configs/accelerate/ddp.yaml" in log
    for processes, (workdir, _) in train_runs.items():
        assert metrics(workdir)["train/effective_batch"] == 4
        assert metrics(workdir)["train/processes"] == processes


@pytest.mark.slow
def test_two_processes_give_the_loss_curve_and_adapter_of_one(train_runs):
    one, two = train_runs[1][0], train_runs[2][0]
    torch.testing.assert_close(loss_curve(two), loss_curve(one), equal_nan=True, **TOLERANCE)
    expected = adapter(one)
    for name, tensor in adapter(two).items():
        torch.testing.assert_close(tensor, expected[name], **TOLERANCE)
    # Same examples: sharded, not repeated (the tokens seen would double otherwise).
    differing = {"train/processes"} | WALL_CLOCK | {"train/loss", "eval/loss"}
    same = {key: value for key, value in metrics(two).items() if key not in differing}
    assert same == {key: metrics(one)[key] for key in same}


@pytest.mark.slow
def test_rank_0_alone_wrote_the_outputs_and_the_wandb_run(train_runs):
    workdir, log = train_runs[2]
    assert_written_once(workdir, log, "train", TRAIN_ARGUMENTS["--checkpoint-dir"])


def assert_written_once(workdir: Path, log: str, stage: str, checkpoint_dir: str) -> None:
    """One adapter write, metrics printed once, one W&B run; no checkpoints or leftovers."""
    assert log.count("Saved the adapter") == 1
    assert log.count(f"{stage}/effective_batch: 4") == 1, "metrics printed by one rank"
    assert len(list((workdir / "wandb").glob("offline-run-*"))) == 1
    assert not (workdir / checkpoint_dir).exists()
    assert not list(workdir.glob("**/.*.*")), "no temporary leftovers of atomic writes"


@pytest.mark.slow
def test_a_killed_rank_resumes_from_the_checkpoint_on_rerun(train_runs, tmp_path, tiny_model_dir):
    workdir = train_workdir(tmp_path, tiny_model_dir, per_device=2, save_steps=2)
    (workdir / "kill.py").write_text(KILL_RANK_1)
    paths = [TRAIN_ARGUMENTS[key] for key in ("--train", "--validation", "--adapter-dir")]
    stage = str(REPO / "stages/train.py")
    killed = launch(
        workdir, 2, ["kill.py", stage, "3", *paths, TRAIN_ARGUMENTS["--checkpoint-dir"]]
    )
    assert killed.returncode != 0
    assert "exitcode  : 9" in killed.stderr, "rank 1 died at step 3"
    assert (workdir / "checkpoints/train/checkpoint-2/trainer_state.json").is_file()
    assert not (workdir / TRAIN_ARGUMENTS["--adapter-dir"]).exists()

    rerun = train_stage(workdir, 2)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert rerun.stderr.count("Resuming from checkpoints/train/checkpoint-2") == 1
    # A rank that started afresh would train on other batches (or hang the all-reduce).
    uninterrupted = train_runs[2][0]
    torch.testing.assert_close(loss_curve(workdir), loss_curve(uninterrupted), equal_nan=True)
    expected = adapter(uninterrupted)
    for name, tensor in adapter(workdir).items():
        torch.testing.assert_close(tensor, expected[name], **TOLERANCE)


GRPO_ARGUMENTS = {
    "--train": "train.parquet",
    "--sft-adapter-dir": "models/adapter",
    "--adapter-dir": "models/grpo_adapter",
    "--checkpoint-dir": "checkpoints/grpo",
    "--metrics": "metrics/grpo.json",
    "--plot": "plots/grpo_reward.csv",
    "--figure": "plots/grpo_reward.png",
}
# Runs the grpo stage with one more reward in the registry. The tiny random model never
# answers right nor boxes an answer, so the real rewards are all 0, every advantage is 0 and
# nothing would be learnt; the share of letters in a completion varies within every group.
# Each call also records, per rank, the step and the problems of the completions it scored.
LETTERS_REWARD = """
import json, os, runpy, sys
from pathlib import Path
from transformers import TrainerCallback
from mathtune.grading.rewards import REWARD_FUNCTIONS, completion_text

def letters_reward(completions, problem, trainer_state, **kwargs):
    with open(f"rewards-{os.environ.get('RANK', '0')}.jsonl", "a") as stream:
        record = {"step": trainer_state.global_step + 1, "problems": list(problem)}
        stream.write(json.dumps(record) + "\\n")
    texts = [completion_text(completion) for completion in completions]
    return [sum(map(str.isalpha, text)) / max(len(text), 1) for text in texts]

REWARD_FUNCTIONS["letters"] = letters_reward
"""
GRPO_WITH_LETTERS_REWARD = (
    LETTERS_REWARD
    + """
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""
)
# The same, but train_grpo alone, with a callback that kills rank 1 like SIGKILL after a step.
KILL_GRPO_RANK_1 = (
    LETTERS_REWARD
    + KILL_RANK_1_CALLBACK
    + """
from mathtune.grpo import train_grpo
from mathtune.grpo_setup import GrpoPaths, check_grpo
from mathtune.params import load_params

params = load_params()
paths = GrpoPaths(*map(Path, sys.argv[2:]))
train_grpo(params, check_grpo(params, paths), paths, None, [KillRank1()])
"""
)


def grpo_workdir(directory: Path, model_dir: Path, sources: GrpoPaths, steps: int = 2) -> Path:
    """params.yaml (steps of 2 prompts x 2 completions), the train split, the SFT adapter."""
    params = grpo_params(
        model_dir, rewards={"accuracy": 1.0, "letters": 1.0}, steps=steps, save_steps=1
    )
    params = dataclasses.replace(params, wandb=dataclasses.replace(params.wandb, mode="offline"))
    (directory / "params.yaml").write_text(yaml.safe_dump(params_as_dict(params)))
    shutil.copy(sources.train, directory / GRPO_ARGUMENTS["--train"])
    shutil.copytree(sources.sft_adapter_dir, directory / GRPO_ARGUMENTS["--sft-adapter-dir"])
    (directory / "letters.py").write_text(GRPO_WITH_LETTERS_REWARD)
    (directory / "kill.py").write_text(KILL_GRPO_RANK_1)
    return directory


@pytest.fixture(scope="module")
def grpo_runs(tmp_path_factory, tiny_model_dir, grpo_inputs) -> dict[int, tuple[Path, str]]:
    """The grpo stage on 1 process and on 2 (same 4 completions a step): folder and log."""
    folders = {
        processes: grpo_workdir(
            tmp_path_factory.mktemp(f"grpo-{processes}"), tiny_model_dir, grpo_inputs
        )
        for processes in (1, 2)
    }
    return run_each(folders, grpo_stage)


def grpo_stage(workdir: Path, processes: int) -> subprocess.CompletedProcess:
    arguments = [item for pair in GRPO_ARGUMENTS.items() for item in pair]
    return launch(workdir, processes, ["letters.py", str(REPO / "stages/grpo.py"), *arguments])


def scored_problems(workdir: Path, rank: int) -> dict[int, list[str]]:
    """Per step, the problems of the completions that `rank` scored, in order."""
    lines = (workdir / f"rewards-{rank}.jsonl").read_text().splitlines()
    return {record["step"]: record["problems"] for record in map(json.loads, lines)}


@pytest.mark.slow
def test_grpo_on_two_processes_shares_each_step_and_records_the_effective_batch(grpo_runs):
    _, log = grpo_runs[2]
    assert_two_processes_ran(log)
    assert log.count("effective batch 4 completions = 2 prompts x 2 generations") == 2
    for processes, (workdir, _) in grpo_runs.items():
        recorded = json.loads((workdir / GRPO_ARGUMENTS["--metrics"]).read_text())
        assert recorded["grpo/effective_batch"] == 4
        assert recorded["grpo/processes"] == processes
        assert recorded["grpo/steps"] == 2
    # Sharded, not repeated: each rank scores 2 of a step's 4 completions, and together they
    # are the one-process step's (same prompts, each with its 2 generations).
    one = scored_problems(grpo_runs[1][0], 0)
    halves = [scored_problems(grpo_runs[2][0], rank) for rank in (0, 1)]
    assert sorted(one) == [1, 2] and all(sorted(half) == [1, 2] for half in halves)
    for step, problems in one.items():
        assert len(problems) == 4 and all(len(half[step]) == 2 for half in halves)
        assert sorted(halves[0][step] + halves[1][step]) == sorted(problems)


@pytest.mark.slow
def test_grpo_on_two_processes_writes_from_rank_0_alone(grpo_runs):
    workdir, log = grpo_runs[2]
    assert_written_once(workdir, log, "grpo", GRPO_ARGUMENTS["--checkpoint-dir"])
    for option in ("--adapter-dir", "--metrics", "--plot", "--figure"):
        assert (workdir / GRPO_ARGUMENTS[option]).exists()


@pytest.mark.slow
def test_grpo_on_two_processes_moves_the_adapter_as_far_as_one_process(grpo_runs):
    """Not the same weights: TRL seeds sampling per rank (seed + rank), so rank 1 draws other
    completions than the one process does, with other rewards and gradients. What holds:
    both adapters are finite, moved away from the SFT adapter, and no weight moved more
    than Adam allows for 2 steps of lr (about lr a step whatever the gradient), so neither
    run took extra or larger steps."""
    sft = load_file(grpo_runs[1][0] / GRPO_ARGUMENTS["--sft-adapter-dir"] / ADAPTER_FILE)
    lr = yaml.safe_load((grpo_runs[1][0] / "params.yaml").read_text())["grpo"]["lr"]
    for workdir, _ in grpo_runs.values():
        trained = load_file(workdir / GRPO_ARGUMENTS["--adapter-dir"] / ADAPTER_FILE)
        assert trained.keys() == sft.keys()
        moves = torch.stack([(trained[name] - sft[name]).abs().max() for name in sft])
        assert all(tensor.isfinite().all() for tensor in trained.values())
        assert moves.max() > 0, "the adapter learnt something"
        assert moves.max() <= 2 * lr * 1.5, "at most 2 Adam steps of about lr each"


@pytest.mark.slow
def test_grpo_killed_rank_resumes_with_every_rank_at_the_same_checkpoint(
    grpo_inputs, tmp_path, tiny_model_dir
):
    workdir = grpo_workdir(tmp_path, tiny_model_dir, grpo_inputs, steps=3)
    paths = [GRPO_ARGUMENTS[key] for key in ("--train", "--sft-adapter-dir", "--adapter-dir")]
    killed = launch(workdir, 2, ["kill.py", "2", *paths, GRPO_ARGUMENTS["--checkpoint-dir"]])
    assert killed.returncode != 0
    assert "exitcode  : 9" in killed.stderr, "rank 1 died at step 2"
    assert (workdir / "checkpoints/grpo/checkpoint-1/trainer_state.json").is_file()
    assert not (workdir / GRPO_ARGUMENTS["--adapter-dir"]).exists()
    for records in workdir.glob("rewards-*.jsonl"):
        records.unlink()

    rerun = grpo_stage(workdir, 2)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert rerun.stderr.count("Resuming from checkpoints/grpo/checkpoint-1") == 1
    # Both ranks went on from step 2: neither started afresh (nor did they hang apart).
    assert [sorted(scored_problems(workdir, rank)) for rank in (0, 1)] == [[2, 3], [2, 3]]
    recorded = json.loads((workdir / GRPO_ARGUMENTS["--metrics"]).read_text())
    assert recorded["grpo/steps"] == 3 and recorded["grpo/effective_batch"] == 4
    assert (workdir / GRPO_ARGUMENTS["--adapter-dir"] / ADAPTER_FILE).is_file()


# Screens 16 prompts (two batches of 8) with a stand-in grader that depends on the sampled
# text (its length is odd: the real grader never passes a random model's text), and
# writes, per rank, the problems kept and how many completions this rank graded.
SCREEN_PROMPTS = """
import json, os
from pathlib import Path
from mathtune.models import load_base_model, load_tokenizer, locate_model
from mathtune.params import PromptFilterParams, load_params
from mathtune.rl_prompts import filter_prompts, read_prompts

graded = []

def odd_length_accuracy(completions, answer, **kwargs):
    graded.extend(completions)
    return [float(len(text) % 2) for text in completions]

location = locate_model(load_params().model)
tokenizer = load_tokenizer(location)
sampling = {"max_new_tokens": 6, "temperature": 1.0, "eos_token_id": tokenizer.eos_token_id}
kept = filter_prompts(
    read_prompts(Path("train.parquet")), load_base_model(location), tokenizer,
    PromptFilterParams(enabled=True, samples=4, max_prompts=16), sampling, odd_length_accuracy, 7,
)
record = {"kept": list(kept.dataset["problem"]), "graded": len(graded), "screened": kept.screened}
Path(f"kept-{os.environ.get('RANK', '0')}.json").write_text(json.dumps(record))
"""


@pytest.mark.slow
def test_prompt_filter_on_two_processes_screens_shares_and_keeps_one_process_prompts(
    tmp_path, tiny_model_dir
):
    results = {}
    for processes in (1, 2):
        workdir = train_workdir(tmp_path / str(processes), tiny_model_dir, per_device=2)
        write_split(workdir / "train.parquet", make_rows(16))
        (workdir / "screen.py").write_text(SCREEN_PROMPTS)
        result = launch(workdir, processes, ["screen.py"])
        assert result.returncode == 0, result.stderr[-3000:]
        results[processes] = [
            json.loads((workdir / f"kept-{rank}.json").read_text()) for rank in range(processes)
        ]
    (one,) = results[1]
    assert 0 < len(one["kept"]) < 16, "the stand-in grader keeps some prompts, not all"
    assert one["graded"] == 16 * 4 and one["screened"] == 16
    for rank in results[2]:
        assert rank["kept"] == one["kept"], "every rank keeps the one-process prompts"
        assert rank["graded"] == 8 * 4, "each rank sampled its own batch of 8 prompts"


def evaluate_stage(workdir: Path, inputs: Path, model_dir: Path, processes: int):  # noqa: F811
    """The evaluate stage in bf16 with a sampled local benchmark, on `processes` processes.

    11 greedy prompts (6 seen, 5 held-out) and 5 benchmark problems sampled twice, in batches
    of 3: contiguous shares of each request, batched by each rank, would form other batches
    than one process does, and in bf16 another batch shape can flip near-tie tokens.
    """
    workdir.mkdir(parents=True)
    gsm8k = [
        {"question": generate_row(seed=0, index=index)["problem"], "answer": f"#### {index}"}
        for index in range(20, 25)
    ]
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["model"].update(source="local", local_dir=str(model_dir), precision="bf16")
    params["evaluate"].update(max_samples=6, max_new_tokens=16, batch_size=3)
    params["evaluate"]["benchmarks"]["gsm8k"].update(
        source="local", local_files=[write_jsonl(workdir / "gsm8k.jsonl", gsm8k)]
    )
    params["evaluate"]["benchmarks"].update(
        max_new_tokens=16, samples=2, temperature=1.0, max_samples=None
    )
    params["wandb"]["mode"] = "offline"
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    for name in ("data/prepared", "models"):
        (workdir / name).parent.mkdir(parents=True, exist_ok=True)
        (workdir / name).symlink_to(inputs / name)
    arguments = [item for pair in EVALUATE_ARGUMENTS.items() for item in pair] + ADAPTERS
    result = launch(workdir, processes, [str(REPO / "stages/evaluate.py"), *arguments])
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.mark.slow
def test_sharded_evaluation_writes_the_files_of_one_process(inputs, tiny_model_dir, tmp_path):  # noqa: F811
    evaluate_stage(tmp_path / "one", inputs, tiny_model_dir, 1)
    two = evaluate_stage(tmp_path / "two", inputs, tiny_model_dir, 2)
    ranks = {(rank, pid) for rank, world, pid in PROCESS_LINE.findall(two.stderr) if world == "2"}
    assert len(ranks) == 2 and {rank for rank, _ in ranks} == {"0", "1"}, two.stderr[-2000:]
    rows = {
        run: pq.read_table(tmp_path / run / EVALUATE_ARGUMENTS["--predictions"]).to_pylist()
        for run in ("one", "two")
    }
    samples = {(row["split"], row["sample"]) for row in rows["one"]}
    assert {("gsm8k", 0), ("gsm8k", 1), ("seen", None), ("heldout", None)} <= samples
    for what, sampled in (("greedy (bf16) answers", False), ("pass@1 samples", True)):
        picked = {
            run: [row for row in rows[run] if (row["sample"] is not None) == sampled]
            for run in rows
        }
        assert picked["two"] == picked["one"], f"{what} differ from one process's"
    for option in ("--predictions", "--metrics", "--plot"):
        path = EVALUATE_ARGUMENTS[option]
        assert (tmp_path / "two" / path).read_bytes() == (tmp_path / "one" / path).read_bytes()
    assert len(list((tmp_path / "two" / "wandb").glob("offline-run-*"))) == 1
    assert two.stdout.count("eval/samples/seen: 6") == 1, "metrics printed by one rank"
