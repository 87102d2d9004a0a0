"""Issue #29, item 3: accuracy_reward gives real verdicts wherever it is called from.

From a thread and under `accelerate launch` the worker pool runs; in a daemonic process (a
`multiprocessing.Pool` worker, a torch DataLoader worker), which cannot start children, the
comparisons run in-process under the same CPU budget and are counted as machinery failures.
Each context grades the three pairs the issue saw score 0.0 in a pool worker.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import threading
from pathlib import Path

from mathtune.grading.rewards import accuracy_reward

REPO = Path(__file__).resolve().parents[2]
COMPLETIONS = [r"\boxed{\frac{\sqrt{2}}{2}}", r"\boxed{(x+1)^2}", r"\boxed{\{1,2,3\}}"]
ANSWERS = [r"\frac{1}{\sqrt{2}}", "x^2+2x+1", r"\{3,2,1\}"]


def rewards_and_counts() -> tuple[list[float], dict[str, float]]:
    """The three rewards and the counters accuracy_reward logs, as TRL would receive them."""
    logged: dict[str, float] = {}
    rewards = accuracy_reward(COMPLETIONS, ANSWERS, log_metric=logged.__setitem__)
    return rewards, logged


def counts(timeouts: int, machinery_failures: int) -> dict[str, float]:
    return {"grader/timeouts": timeouts, "grader/machinery_failures": machinery_failures}


def test_from_a_thread():
    results = []
    thread = threading.Thread(target=lambda: results.append(rewards_and_counts()))
    thread.start()
    thread.join()
    assert results == [([1.0, 1.0, 1.0], counts(0, 0))]


def test_from_a_daemonic_multiprocessing_pool_worker():
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(rewards_and_counts) == ([1.0, 1.0, 1.0], counts(0, 3))


class ThreePairs:
    """A map-style data set whose one item is graded in the DataLoader's worker."""

    def __len__(self) -> int:
        return 1

    def __getitem__(self, index: int) -> tuple[list[float], dict[str, float], bool]:
        return (*rewards_and_counts(), multiprocessing.current_process().daemon)


def test_from_a_torch_dataloader_worker():
    from torch.utils.data import DataLoader  # imported here: the other contexts need no torch

    loader = DataLoader(ThreePairs(), batch_size=None, num_workers=1)
    assert list(loader) == [[[1.0, 1.0, 1.0], counts(0, 3), True]]  # tuples come back as lists


ACCELERATE_SCRIPT = """
import json
import torch.distributed as dist
from accelerate import PartialState
from mathtune.grading.rewards import accuracy_reward

PartialState()  # joins the process group, over gloo on CPU
logged = {}
rewards = accuracy_reward(%r, %r, log_metric=logged.__setitem__)
everyone = [None] * dist.get_world_size()
dist.all_gather_object(everyone, (dist.get_rank(), rewards, logged))
if dist.get_rank() == 0:
    print("GATHERED", json.dumps(everyone))
"""


def test_under_accelerate_launch_with_two_processes(tmp_path):
    script = tmp_path / "grade.py"
    script.write_text(ACCELERATE_SCRIPT % (COMPLETIONS, ANSWERS))
    command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu"]
    command += ["--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no"]
    command += ["--dynamo_backend", "no", str(script)]
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=os.environ | {"PYTHONPATH": path, "HF_HUB_OFFLINE": "1"},
    )
    gathered = [line for line in result.stdout.splitlines() if line.startswith("GATHERED ")]
    assert gathered, result.stderr[-3000:]
    ranks = json.loads(gathered[0].removeprefix("GATHERED "))
    assert ranks == [[rank, [1.0, 1.0, 1.0], counts(0, 0)] for rank in (0, 1)]
