"""Shared fixtures: a tiny real model, so most tests skip the 12 s GGUF load.

`tiny_model_dir` is a two-layer Llama with random weights and the real SmolLM2 tokenizer
(taken from the embedded GGUF), saved like any local model directory (config.json +
model.safetensors + tokenizer files). It exercises the same code paths as the real models.
"""

from __future__ import annotations

import os

# Tests never touch the network: hub look-ups fail at once instead of retrying for a minute.
# huggingface_hub reads these when first imported, so they are set before anything imports it.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["WANDB_MODE"] = "offline"

import contextlib  # noqa: E402
import copy  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import yaml  # noqa: E402
from pydantic import BaseModel  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM  # noqa: E402

from mathtune.core.params import LoraParams, ModelParams, Params, load_params  # noqa: E402
from mathtune.eval.scoring import Prediction  # noqa: E402
from mathtune.models.generation import prepare_for_generation  # noqa: E402
from mathtune.models.loading import (  # noqa: E402
    ModelLocation,
    add_lora_adapter,
    load_base_model,
    load_tokenizer,
    locate_model,
)
from mathtune.models.prompts import format_prompt  # noqa: E402
from mathtune.rl.setup import GrpoPaths  # noqa: E402
from mathtune.training.adapters import save_adapter  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def model_params(**changes) -> ModelParams:
    """ModelParams as in params.yaml, with `changes` applied."""
    defaults = dict(
        source="embedded",
        hub_id="Qwen/Qwen2.5-0.5B",
        revision="060db6499f32faf8b98477b0a26969ef7d8b9987",
        local_dir=None,
        trust_remote_code=False,
        precision="fp32",
    )
    return ModelParams(**(defaults | changes))


def save_random_adapter(location: ModelLocation, path: Path, seed: int) -> None:
    """A LoRA adapter for `location` that changes the output, different for each seed.

    LoRA starts as a no-op (B = 0); random B weights make an adapter's pass show.
    """
    model = add_lora_adapter(
        load_base_model(location),
        LoraParams(r=4, alpha=8, dropout=0.0, target_modules=["q_proj", "v_proj"]),
    )
    torch.manual_seed(seed)
    for name, weight in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(weight, std=1.0)
    model.peft_config["default"].base_model_name_or_path = location.description
    model.save_pretrained(path)


@pytest.fixture(scope="session")
def embedded_tokenizer():
    return load_tokenizer(locate_model(model_params()))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, embedded_tokenizer) -> Path:
    directory = tmp_path_factory.mktemp("tiny-model")
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(embedded_tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        eos_token_id=embedded_tokenizer.eos_token_id,
        bos_token_id=embedded_tokenizer.bos_token_id,
        pad_token_id=embedded_tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    LlamaForCausalLM(config).save_pretrained(directory)
    embedded_tokenizer.save_pretrained(directory)
    return directory


SAVE_STEPS, MAX_STEPS = 2, 6  # tiny_params' checkpoint cadence and run length


def changed(section: BaseModel, **changes: Any) -> Any:
    """A copy of a params section with `changes` applied, validated again."""
    return type(section).model_validate(
        section.model_dump()
        | {
            key: value.model_dump() if isinstance(value, BaseModel) else value
            for key, value in changes.items()
        }
    )


def make_rows(count: int) -> list[dict[str, str]]:
    """OpenR1-shaped rows with targets of varied length."""
    return [
        {
            "uuid": f"row-{index}",
            "problem": f"What is {index} + {index + 3}?",
            "answer": str(2 * index + 3),
            "target": "Add. " * (index % 4) + f"${index} + {index + 3} = {2 * index + 3}$.",
            "problem_type": "Algebra",
            "question_type": "math-word-problem",
            "source": "test",
        }
        for index in range(count)
    ]


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def tiny_params(model_dir: Path, lora_dropout: float = 0.05, **train_changes) -> Params:
    """params.yaml with the tiny local model, a few small steps and W&B off."""
    params = load_params(REPO / "params.yaml")
    train = {
        "lr": 1e-3,
        "max_steps": MAX_STEPS,
        "per_device_batch_size": 2,
        "logging_steps": 1,
        "eval_steps": 3,
        "save_steps": SAVE_STEPS,
        "max_length": 128,
        "lora": changed(params.train.lora, dropout=lora_dropout),
    }
    return changed(
        params,
        model=model_params(source="local", local_dir=str(model_dir)),
        train=changed(params.train, **(train | train_changes)),
        wandb=changed(params.wandb, mode="disabled"),
    )


def grpo_params(model_dir: Path, **grpo_changes) -> Params:
    """params.yaml with the tiny model and a two-step GRPO run of tiny completions."""
    params = tiny_params(model_dir)
    changes = {
        "steps": 2,
        "prompts_per_step": 2,
        "generations_per_prompt": 2,
        "max_completion_length": 8,
        "save_steps": 1,
        "summary_steps": 1,
        "logged_completions": 4,
    }
    return changed(params, grpo=changed(params.grpo, **(changes | grpo_changes)))


@pytest.fixture(scope="session")
def grpo_inputs(tiny_model_dir, tmp_path_factory) -> GrpoPaths:
    """A train split and an SFT adapter for the tiny model (outputs go to unused paths)."""
    directory = tmp_path_factory.mktemp("grpo-inputs")
    params = grpo_params(tiny_model_dir)
    location = locate_model(params.model)
    model = add_lora_adapter(load_base_model(location), params.train.lora)
    save_adapter(model, load_tokenizer(location), location, directory / "adapter")
    train = write_rows(directory / "train.parquet", make_rows(8))
    return GrpoPaths(train, directory / "adapter", directory / "unused", directory / "unused")


def prediction(**changes) -> Prediction:
    defaults = dict(
        model="base",
        split="seen",
        sample=None,
        uuid="u",
        problem="p",
        problem_type="Algebra",
        family="sum",
        gold="1",
        generation="g",
        extracted_answer=None,
        extraction_strategy=None,
        correct=False,
        format_ok=False,
        grader_timed_out=False,
        grader_machinery_failure=False,
        reasoning_quality=0.0,
        generated_tokens=10,
        truncated=False,
    )
    return Prediction(**(defaults | changes))


def write_jsonl(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


def load_tokenizer_with_eos(tokenizer, eos_token: str):
    """A copy of `tokenizer` whose eos is not the end-of-turn token, as in Qwen2.5 base."""
    changed = copy.deepcopy(tokenizer)
    changed.eos_token = eos_token
    changed.pad_token = eos_token
    return changed


# What a stage logs about its process under `accelerate launch`: rank, world size and pid.
PROCESS_LINE = re.compile(r"process (\d) of (\d) \(pid (\d+)\)")


def child_env() -> dict[str, str]:
    """The child processes import this checkout's package and never touch a network."""
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return os.environ | {
        "PYTHONPATH": path,
        "HF_HUB_OFFLINE": "1",
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
    }


def launch(workdir: Path, processes: int, script: list[str]) -> subprocess.CompletedProcess:
    """`python -m mathtune.core.launch` in `workdir`, as dvc.yaml runs it."""
    if not (workdir / "configs").exists():
        (workdir / "configs").symlink_to(REPO / "configs")
    command = [sys.executable, "-m", "mathtune.core.launch", "--processes", str(processes)]
    command += ["--strategy", "ddp", "--", *script]
    return subprocess.run(command, cwd=workdir, env=child_env(), capture_output=True, text=True)


# A few problems the tiny random model answers in `TINY_NEW_TOKENS` tokens (generation tests).
TINY_PROBLEMS = [
    "What is 2 + 3?",
    "Tom has 23 apples and gets 15 more. How many apples does Tom have now?",
    "Solve x + 1 = 4.",
    "A rectangle is 3 by 4. What is its area, and what is its perimeter in centimetres?",
    "Compute 7 * 6.",
]
TINY_NEW_TOKENS = 6


@pytest.fixture(scope="module")
def tiny_location(tiny_model_dir):
    return locate_model(model_params(source="local", local_dir=str(tiny_model_dir)))


@pytest.fixture(scope="module")
def tiny_tokenizer(tiny_location):
    return load_tokenizer(tiny_location)


@pytest.fixture(scope="module")
def tiny_generator(tiny_location):
    return prepare_for_generation(load_base_model(tiny_location), "fp32")


@pytest.fixture(scope="module")
def tiny_prompts(tiny_tokenizer):
    return [format_prompt(tiny_tokenizer, problem) for problem in TINY_PROBLEMS]


@contextlib.contextmanager
def stage_fails(capsys: pytest.CaptureFixture, message: str) -> Iterator[None]:
    """The block runs a stage's main(), which must stop with exit status 2 and print
    `<stage> failed: ...` matching `message` (a regular expression) on stderr."""
    with pytest.raises(SystemExit) as caught:
        yield
    assert caught.value.code == 2
    error = capsys.readouterr().err
    assert re.search(rf"\w+ failed: .*{message}", error), error


# What a tiny copy of this repository needs to run its pipeline.
PROJECT_FILES = [
    "dvc.yaml",
    "params.yaml",
    "params.schema.json",
    "experiments.yaml",
    "stages",
    "mathtune",
    "configs",
    ".gitignore",
    "benchmarks/probe_problems.jsonl",  # prepare and evaluate read these four
    "benchmarks/probe_procedural.jsonl",
    "benchmarks/probe_deepmind.jsonl",
    "benchmarks/probe_reasoning_gym.jsonl",
]


def run_command(command: list[str], cwd: Path) -> str:
    """Run a command (dvc, git, python -m mathtune ...) in `cwd`; its output, or fail."""
    environment = os.environ | {
        # the stage commands call `python`: make it this interpreter
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "WANDB_MODE": "offline",
    }
    result = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def tiny_pipeline_params(model_dir: Path) -> dict:
    """params.yaml for a pipeline run of a minute: the tiny model, 60 rows, a few steps."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["prepare"]["synthetic"]["rows"] = 60
    params["model"].update(source="local", local_dir=str(model_dir), precision="fp32")
    params["train"].update(
        max_steps=4, per_device_batch_size=4, save_steps=2, eval_steps=2, logging_steps=1
    )
    params["evaluate"].update(max_samples=4, probe_samples=4, max_new_tokens=12, batch_size=4)
    params["grpo"].update(
        steps=2, prompts_per_step=2, generations_per_prompt=2, max_completion_length=8, save_steps=1
    )
    return params


@pytest.fixture(scope="session")
def tiny_project(tmp_path_factory, tiny_model_dir) -> Path:
    """A git + DVC repository of this project's pipeline on the tiny model, reproduced and
    committed: `dvc repro` ran once; tests that change it work on a `copy_project`."""
    root = tmp_path_factory.mktemp("tiny-project")
    for name in PROJECT_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, root / name)
    params = tiny_pipeline_params(tiny_model_dir)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run_command(["git", "init", "-q", "-b", "main"], root)
    run_command(["git", "config", "user.email", "test@example.com"], root)
    run_command(["git", "config", "user.name", "test"], root)
    run_command(["dvc", "init", "-q"], root)
    run_command(["dvc", "config", "core.analytics", "false"], root)
    run_command(["dvc", "repro"], root)
    run_command(["git", "add", "-A"], root)
    run_command(["git", "commit", "-q", "-m", "tiny run"], root)
    return root


def copy_project(project: Path, destination: Path) -> Path:
    """A copy of a project, its git history and DVC cache included, to change freely."""
    shutil.copytree(project, destination, symlinks=True, ignore=shutil.ignore_patterns("tmp"))
    return destination
