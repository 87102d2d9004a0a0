"""The one place that knows about several processes: rank, world size, barriers, sharding.

Under `accelerate launch` (or torchrun) every process runs the same stage; these helpers let
the stage split work and let rank 0 alone write outputs. In a plain `python` run they
describe a world of one process and every call is immediate, so stages call them either way.
Rank 0 alone writes files and reports, unless the machines share no disk (see writes_files).

    part = shard_indices(10, shards=2, shard=1)   # range(5, 10): contiguous, in file order
    joined = gather_in_order(generate(shard(problems)))   # every answer, in order, on every rank
    outputs = map_batches(run_batch, batches)      # batch i run by rank i % world size
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import torch
import torch.distributed as dist

logger = logging.getLogger(__name__)

T = TypeVar("T")


def world_size() -> int:
    """Processes in this run: WORLD_SIZE, which accelerate launch and torchrun set."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    """This process's global rank (0 in a plain run)."""
    return int(os.environ.get("RANK", "0"))


def local_rank() -> int:
    """This process's rank on its machine, hence its GPU: LOCAL_RANK (0 in a plain run)."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def device() -> str:
    """This process's GPU (`cuda:<local rank>`) when there is one, else `cpu`."""
    return f"cuda:{local_rank()}" if torch.cuda.is_available() else "cpu"


def is_main() -> bool:
    """True on the one process that reports: the W&B run, the printed metrics."""
    return rank() == 0


def describe() -> str:
    """Which process this is, for logs: 'process 1 of 2 (pid 4242)'."""
    return f"process {rank()} of {world_size()} (pid {os.getpid()})"


def save_on_each_node() -> bool:
    """True when the machines share no disk (MATHTUNE_SAVE_ON_EACH_NODE=1).."""
    return os.environ.get("MATHTUNE_SAVE_ON_EACH_NODE", "0") == "1"


def writes_files() -> bool:
    """True on the process that writes outputs and checkpoints on this machine's disk.

    Rank 0 alone, unless the machines share no disk: then each machine's first process
    writes its own copy (the replicas hold the same weights), so that `dvc exp run` on each
    machine (scripts/slurm/pipeline.sbatch, sky/pipeline.yaml) finds its outputs.
    """
    if save_on_each_node():
        return local_rank() == 0
    return is_main()


def init_processes() -> None:
    """Join the process group (gloo on CPU, nccl on GPU) if launched with several processes.

    accelerate's PartialState does the joining, so the Trainer later finds the same group.
    """
    if world_size() > 1 and not dist.is_initialized():
        from accelerate import PartialState  # imported here: a plain run needs none of it

        state = PartialState()
        logger.info("%s joined over %s", describe(), state.backend)


def barrier() -> None:
    """Wait until every process gets here."""
    if world_size() > 1:
        init_processes()
        dist.barrier()


def run_on_writers(work: Callable[[], T]) -> T:
    """Run `work` on the writing processes only, the others waiting; all get rank 0's result."""
    if world_size() == 1:
        return work()
    init_processes()
    box = [work() if writes_files() else None]
    dist.barrier()  # every writer is done before anyone reads what they wrote
    dist.broadcast_object_list(box, src=0)
    return box[0]


def shard_indices(count: int, shards: int, shard: int) -> range:
    """Contiguous part `shard` of `count` items cut in `shards`; the first parts get the rest.

    >>> [list(shard_indices(5, 2, shard)) for shard in range(2)]
    [[0, 1, 2], [3, 4]]
    """
    base, extra = divmod(count, shards)
    start = shard * base + min(shard, extra)
    return range(start, start + base + (shard < extra))


def shard(items: Sequence[T]) -> list[T]:
    """This rank's contiguous part of `items` (all of them in a one-process run)."""
    return [items[index] for index in shard_indices(len(items), world_size(), rank())]


def gather_in_order(piece: Any) -> Any:
    """Every rank's `piece` joined in rank order, on every rank (so each machine's writer
    has it): lists are concatenated, dicts joined key by key, at any depth."""
    if world_size() == 1:
        return piece
    init_processes()
    pieces: list[Any] = [None] * world_size()
    dist.all_gather_object(pieces, piece)
    return _concatenate(pieces)


def batch_shard(count: int, shards: int, shard: int) -> range:
    """Batches that rank `shard` runs of `count`: every `shards`-th one, from its own rank.

    Round-robin rather than contiguous: batches come longest first, so contiguous shares
    would leave the longest prompts (and usually generations) all to rank 0.

    >>> [list(batch_shard(5, 2, shard)) for shard in range(2)]
    [[0, 2, 4], [1, 3]]
    """
    return range(shard, count, shards)


def my_batches(count: int) -> range:
    """The batches of `count` that this rank runs (see batch_shard)."""
    return batch_shard(count, world_size(), rank())


def map_batches(work: Callable[[int, T], Any], batches: Sequence[T]) -> list[Any]:
    """`work(index, batch)` for every batch, each batch run by one rank; on every rank the
    results in batch order. Every rank must call it with the same batches (a collective).

    Each rank runs whole batches as one process forms them, so what a batch computes does
    not depend on the number of processes (in bf16 another batch shape can round
    differently and flip near-tie greedy tokens).
    """
    mine = {index: work(index, batches[index]) for index in my_batches(len(batches))}
    joined = {index: result for piece in gather_in_order([mine]) for index, result in piece.items()}
    return [joined[index] for index in range(len(batches))]


def _concatenate(pieces: list[Any]) -> Any:
    """Rank-ordered pieces (lists, or dicts of them at any depth) joined into one."""
    if isinstance(pieces[0], dict):
        return {key: _concatenate([piece[key] for piece in pieces]) for key in pieces[0]}
    return [item for piece in pieces for item in piece]
