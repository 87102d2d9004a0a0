"""Training checkpoints that survive a killed run and are never reused by a different one.

The Trainer saves a checkpoint every `train.save_steps` steps under the checkpoint folder
(kept apart from the final adapter, and not a DVC output). The folder also holds a
fingerprint of what the checkpoints were made from: the params of the stage, the number of
processes and the hashes of the data files and of the package modules the training
imports. A rerun resumes
from the newest complete checkpoint only when the fingerprint matches; otherwise it
discards the folder, says why, and starts fresh.

    checkpoints/train/
        fingerprint.json
        checkpoint-25/   adapter_model.safetensors, optimizer.pt, rng_state.pth, trainer_state.json
        checkpoint-50/
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import logging
import re
import shutil
from pathlib import Path

from pydantic import BaseModel

logger = logging.getLogger(__name__)

FINGERPRINT_FILE = "fingerprint.json"
# The Trainer writes trainer_state.json last, so a checkpoint without it was cut short.
COMPLETE_MARKER = "trainer_state.json"
_CHECKPOINT_NAME = re.compile(r"^checkpoint-(\d+)$")


def compute_fingerprint(
    sections: dict[str, BaseModel], data_files: list[Path], code: str, processes: int
) -> dict:
    """What a checkpoint depends on: params sections, the data files, the package code and
    the number of processes.

    `sections` maps a params section name to its model, e.g. {"train": params.train};
    `code` names the module that trains, e.g. "mathtune.sft.trainer" (see hash_package_code).
    The process count sets the effective batch and which rows each process reads, so a
    checkpoint of 2 processes resumed by 1 would finish a run that neither setting makes.
    """
    params = {name: section.model_dump() for name, section in sections.items()}
    encoded = json.dumps(params, sort_keys=True).encode()
    return {
        "params": hashlib.sha256(encoded).hexdigest(),
        "processes": processes,
        "data": {path.name: hash_file(path) for path in data_files},
        "code": hash_package_code(code),
    }


def hash_package_code(entry: str) -> str:
    """Hash of module `entry` and every package module it imports, subpackages included.

    Any edit to that code (tokenisation, collators, rewards...) makes checkpoints stale:
    resuming after one could mix two versions of the training in one adapter. Stale
    checkpoints only cost a restart. The imports are read from the source, not from what
    happens to be loaded, so every process that trains gets the same hash.
    """
    root = Path(__file__).resolve().parents[1]  # the package: mathtune/
    digest = hashlib.sha256()
    for name in sorted(_imported_modules(entry)):
        path = _module_file(name)
        digest.update(f"{path.relative_to(root)}:{hash_file(path)}\n".encode())
    return digest.hexdigest()


def _imported_modules(entry: str) -> set[str]:
    """`entry` and the package modules it imports, directly or through others."""
    package = entry.partition(".")[0]
    found, pending = set(), [entry]
    while pending:
        name = pending.pop()
        if name in found or _module_file(name) is None:
            continue
        found.add(name)
        tree = ast.parse(_module_file(name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                pending += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                pending.append(node.module)
                # `from mathtune import distributed` names a module, not an attribute
                pending += [f"{node.module}.{alias.name}" for alias in node.names]
    return {name for name in found if name == package or name.startswith(package + ".")}


def _module_file(name: str) -> Path | None:
    """Source file of a module of this package; None for anything else."""
    if name.partition(".")[0] != __name__.partition(".")[0]:
        return None
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):  # `from mathtune.x import y` where y is no module
        return None
    return Path(spec.origin) if spec and spec.origin and spec.origin.endswith(".py") else None


def hash_file(path: Path) -> str:
    """sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def prepare_checkpoint_dir(directory: Path, fingerprint: dict) -> Path | None:
    """Return the checkpoint to resume from, or None after clearing a stale folder.

    Afterwards `directory` exists and holds `fingerprint`, so the checkpoints the Trainer
    writes next are marked with the configuration that made them.
    """
    resume = _find_resumable(directory, fingerprint)
    if resume is None and directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / FINGERPRINT_FILE).write_text(json.dumps(fingerprint, indent=2, sort_keys=True))
    if resume is not None:
        logger.info("Resuming from %s (same params and data as the interrupted run)", resume)
    return resume


def discard_checkpoints(directory: Path) -> None:
    """Remove the checkpoint folder once the final outputs are in place."""
    shutil.rmtree(directory, ignore_errors=True)


def find_last_checkpoint(directory: Path) -> Path | None:
    """Newest `checkpoint-N` folder that was completely written, if any."""
    complete = [
        (int(match.group(1)), path)
        for path in directory.iterdir()
        if (match := _CHECKPOINT_NAME.match(path.name))
        and path.is_dir()
        and (path / COMPLETE_MARKER).is_file()
    ]
    return max(complete)[1] if complete else None


def _find_resumable(directory: Path, fingerprint: dict) -> Path | None:
    if not directory.is_dir():
        return None
    fingerprint_file = directory / FINGERPRINT_FILE
    try:
        saved = json.loads(fingerprint_file.read_text())
    except (OSError, json.JSONDecodeError):
        logger.warning("Discarding %s: it has no readable %s", directory, FINGERPRINT_FILE)
        return None
    if saved != fingerprint:
        changed = sorted(key for key in fingerprint if saved.get(key) != fingerprint[key])
        logger.warning(
            "Discarding checkpoints in %s: they were made with other %s; starting fresh",
            directory,
            " and ".join(changed or ["settings"]),
        )
        return None
    last = find_last_checkpoint(directory)
    if last is None:
        logger.info("No complete checkpoint in %s; starting fresh", directory)
    return last
