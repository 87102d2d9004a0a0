"""Many processes: sharding helpers, the launcher's checks, and real two-process runs on CPU.

The slow tests start real processes through `python -m mathtune.core.launch` (accelerate launch,
gloo backend) on the tiny model, and compare them with one process at the same effective
batch: for train, the loss curve and the adapter agree within fp32 rounding (TOLERANCE);
for grpo, each rank samples its own completions, so the runs agree in what they train on
(the prompts and completion count of every step), not in the weights they reach.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from conftest import (
    PROCESS_LINE,
    changed,
    grpo_params,
    launch,
    make_rows,
    tiny_params,
    write_rows,
)
from mathtune.core import distributed
from mathtune.core.distributed import batch_shard, map_batches, shard_indices
from mathtune.core.params import params_as_dict
from mathtune.rl.setup import GrpoPaths

REPO = Path(__file__).resolve().parents[2]
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
    "--report": "reports/train.json",
    "--plot": "plots/train_loss.csv",
    "--figure": "plots/train_loss.png",
}
ADAPTER_FILE = "adapter_model.safetensors"
WALL_CLOCK = {"train/runtime_s", "train/real_tokens_per_s"}
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
from mathtune.core.params import load_params
from mathtune.sft.trainer import TrainPaths, check_training, train_adapter
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


# ---------------------------------------------------------------- many nodes


# ---------------------------------------------------------------- real processes


def train_workdir(directory: Path, model_dir: Path, per_device: int, **train) -> Path:
    """A folder with params.yaml, 8 train and 4 validation rows; dropout off (rank-free RNG)."""
    directory.mkdir(parents=True, exist_ok=True)
    params = tiny_params(
        model_dir, lora_dropout=0.0, per_device_batch_size=per_device, **{"max_steps": 4} | train
    )
    params = changed(params, wandb=changed(params.wandb, mode="offline"))
    (directory / "params.yaml").write_text(yaml.safe_dump(params_as_dict(params)))
    write_rows(directory / "train.parquet", make_rows(8))
    write_rows(directory / "validation.parquet", make_rows(12)[8:])
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
    return json.loads((workdir / TRAIN_ARGUMENTS["--report"]).read_text())


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
    "--report": "reports/grpo.json",
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
from mathtune.rl.trainer import train_grpo
from mathtune.rl.setup import GrpoPaths, check_grpo
from mathtune.core.params import load_params

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
    params = changed(params, wandb=changed(params.wandb, mode="offline"))
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
        recorded = json.loads((workdir / GRPO_ARGUMENTS["--report"]).read_text())
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
    for option in ("--adapter-dir", "--metrics", "--report", "--plot", "--figure"):
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
    recorded = json.loads((workdir / GRPO_ARGUMENTS["--report"]).read_text())
    assert recorded["grpo/steps"] == 3 and recorded["grpo/effective_batch"] == 4
    assert (workdir / GRPO_ARGUMENTS["--adapter-dir"] / ADAPTER_FILE).is_file()


# Screens 16 prompts (two batches of 8) with a stand-in grader that depends on the sampled
# text (its length is odd: the real grader never passes a random model's text), and
# writes, per rank, the problems kept and how many completions this rank graded.
SCREEN_PROMPTS = """
import json, os
from pathlib import Path
from mathtune.models.loading import load_base_model, load_tokenizer, locate_model
from mathtune.core.params import PromptFilterParams, load_params
from mathtune.rl.prompts import filter_prompts, read_prompts

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
        write_rows(workdir / "train.parquet", make_rows(16))
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


def test_train_stage_stops_on_a_batch_larger_than_the_data_before_wandb(tmp_path, tiny_model_dir):
    workdir = train_workdir(tmp_path, tiny_model_dir, per_device=16)
    result = train_stage(workdir, processes=1)
    assert result.returncode != 0
    assert "train failed: The effective batch" in result.stderr
    assert "exceeds the 8 train examples" in result.stderr
    assert "Loading weights" not in result.stderr
    assert not (workdir / "wandb").exists() and not (workdir / "models").exists()
