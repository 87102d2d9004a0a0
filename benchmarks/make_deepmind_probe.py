"""Write benchmarks/probe_deepmind.jsonl: 60 problems from DeepMind's mathematics_dataset
(another project's procedural generators), 10 from each of six modules at the train-easy
difficulty, with a fixed seed. Never trained on; scored by transfer_probe.py.

The generator pins an old sympy, so it runs in its own virtual environment:

    python3 -m venv /tmp/mdenv
    /tmp/mdenv/bin/pip install mathematics-dataset==1.0.1 sympy==1.5.1
    PYTHONHASHSEED=0 /tmp/mdenv/bin/python benchmarks/make_deepmind_probe.py

PYTHONHASHSEED fixes the letters sympy picks for the unknowns; the numbers come from the seed.
"""

import json
import random
from pathlib import Path

import numpy as np
from mathematics_dataset.modules import modules

MODULES = (
    "arithmetic__add_or_sub",
    "arithmetic__add_sub_multiple",
    "arithmetic__mul",
    "arithmetic__div",
    "numbers__gcd",
    "algebra__linear_1d",
)
PER_MODULE = 10
OUT = Path(__file__).parent / "probe_deepmind.jsonl"


def train_easy(entropy_range: tuple[float, float]) -> tuple[float, float]:
    """The first third of a module's entropy range: generate.py's train-easy (level 0 of 3)."""
    low, high = entropy_range
    return low, low + (high - low) / 3


def main() -> None:
    random.seed(0)
    np.random.seed(0)
    generators = modules.train(train_easy)
    with OUT.open("w") as out:
        for name in MODULES:
            area, _, module = name.partition("__")
            for index in range(PER_MODULE):
                problem = generators[area][module]()
                row = {"uuid": f"dm-{name}-{index}", "category": name}
                row |= {"problem": str(problem.question), "answer": str(problem.answer)}
                out.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
