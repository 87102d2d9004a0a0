"""Write benchmarks/probe_reasoning_gym.jsonl: 120 problems from reasoning-gym (another
project's procedural generators), 20 from each of six tasks in their default configuration,
with a fixed seed. Never trained on; scored by transfer_probe.py.

The six tasks are the kinds the issue's second held-out set names: arithmetic chains,
products, fraction simplification, gcd, simple equations and GSM8K-style word problems.
Questions and answers are kept as reasoning-gym writes them (`$\\dfrac{54}{275}$` too), so
the probe also grades answers this project did not format.

reasoning-gym pulls in many packages of its own, so it runs in its own virtual environment:

    python3 -m venv /tmp/rgenv
    /tmp/rgenv/bin/pip install reasoning-gym==0.1.25
    /tmp/rgenv/bin/python benchmarks/make_reasoning_gym_probe.py
"""

import json
from pathlib import Path

import reasoning_gym

TASKS = (
    "chain_sum",
    "products",
    "fraction_simplification",
    "gcd",
    "simple_equations",
    "gsm_symbolic",
)
PER_TASK = 20
SEED = 0
OUT = Path(__file__).parent / "probe_reasoning_gym.jsonl"


def main() -> None:
    with OUT.open("w") as out:
        for task in TASKS:
            entries = reasoning_gym.create_dataset(task, size=PER_TASK, seed=SEED)
            for index, entry in enumerate(entries):
                row = {"uuid": f"rg-{task}-{index}", "category": task}
                row |= {"problem": entry["question"], "answer": str(entry["answer"])}
                out.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
