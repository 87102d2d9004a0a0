r"""Benchmark: time per call of the reward functions, typical and adversarial, from threads
and from TRL's own reward call path.

Each call scores one fresh (completion, gold) pair, with the call's number inside it, so no
cache answers for it. Printed, per case and over all cases of a kind: p50, p99 and max
milliseconds per call of `accuracy_reward`, `format_reward` and `reasoning_reward`
together (the three a GRPO step calls). Bounds: typical p50 under 5 ms; no comparison
past the CPU budget (`mathtune.grading.budget`: 1 s of its own CPU time, the kernel killing
a worker stuck in C BACKSTOP_S later), so a call's wall-clock time depends on the machine's
load, printed beside it. Then the same calls from 16 threads at once, and batches
through trl 1.16.0's `GRPOTrainer._calculate_rewards` (the real method, on a stand-in
trainer that holds only what it reads), each reporting whether every call was answered.

The pool starts (about 2 s) before timing, as it does once per training or evaluate run.

    python benchmarks/bench_rewards.py --calls 30
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import string
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

from mathtune.grading.budget import BACKSTOP_S, CPU_BUDGET_S
from mathtune.grading.rewards import REWARD_FUNCTIONS, accuracy_reward

# No comparison uses more CPU; a call stuck in C is killed BACKSTOP_S of CPU later, then
# retried alone once.
BOUND_S = CPU_BUDGET_S + BACKSTOP_S
TYPICAL_P50_S = 0.005
GARBAGE = "".join(random.Random(0).choice(string.printable) for _ in range(100_000))
REASONING = "Let me check this step again: 23 + 15 = 38, so the total is 38.\n" * 300

Case = Callable[[int], tuple[str, str]]
TYPICAL: dict[str, Case] = {
    "boxed integer": lambda i: (
        f"<think>\n{i} + 1 = {i + 1}\n</think>\n\\boxed{{{i + 1}}}",
        f"{i + 1}",
    ),
    "fraction vs decimal": lambda i: (f"So $\\boxed{{\\frac{{{i}}}{{4}}}}$.", f"{i / 4}"),
    "unboxed sentence": lambda i: (f"Adding up, she has {i} apples in total.", f"{i}"),
    "thousands separator": lambda i: (f"\\boxed{{{i + 1000:,}}}", f"{i + 1000}"),
    "unordered list": lambda i: (
        f"The roots are $\\boxed{{{i}, {i + 1}, -3}}$.",
        f"-3, {i + 1}, {i}",
    ),
    "expression": lambda i: (f"\\boxed{{2\\sqrt{{{i + 2}}} x}}", f"x\\sqrt{{{4 * (i + 2)}}}"),
    "20 KB R1 trace": lambda i: (f"<think>\n{REASONING}</think>\n\n$\\boxed{{{i}}}$", f"{i}"),
}
ADVERSARIAL: dict[str, Case] = {
    "100 KB garbage": lambda i: (f"{GARBAGE}{i}", f"{i}"),
    "5000 nested braces": lambda i: ("\\boxed{" + "{" * 5000 + f"{i}" + "}" * 5001, f"{i}"),
    "300 nested fractions": lambda i: (
        "\\boxed{" + "\\frac{" * 300 + f"{i}" + "}{2}" * 300 + "}",
        "1",
    ),
    "10^{10^{10^{10}}}": lambda i: (
        f"\\boxed{{10^{{10^{{10^{{10^{{{i}}}}}}}}}}}",
        "10^{10^{10^{10}}}",
    ),
    "x^x^...^x (400)": lambda i: ("\\boxed{" + "x^" * 400 + f"{i}}}", "x"),
    "list of 150 values": lambda i: (
        "\\boxed{" + ", ".join(str(i + k) for k in range(150)) + "}",
        ", ".join(str(i + k) for k in reversed(range(150))),
    ),
    "(a+b+c)^40, timed out": lambda i: (f"\\boxed{{(a+b+c)^{{40}}+{i}}}", f"a^{{40}}+{i}"),
    "sin^2000+cos^2000, timed out": lambda i: (
        f"\\boxed{{\\sin(x)^{{2000}}+\\cos(x)^{{2000}}+{i}}}",
        f"{i + 1}",
    ),
    "20,000 boxes": lambda i: (f"\\boxed{{{i}}} " * 20_000, f"{i}"),
    "100,000 dollar signs": lambda i: ("$" * 100_000 + f"{i}", f"{i}"),
}


def call_rewards(completion: str, gold: str) -> float:
    """Seconds for one completion through the three rewards, as a GRPO step calls them."""
    start = time.perf_counter()
    for function in REWARD_FUNCTIONS.values():
        (reward,) = function([completion], answer=[gold])
        assert 0.0 <= reward <= 1.0
    return time.perf_counter() - start


def quantiles(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered) * 1e3:9.2f}{p99 * 1e3:9.2f}{ordered[-1] * 1e3:9.2f}"


def run_sequential(cases: dict[str, Case], calls: int) -> list[float]:
    everything: list[float] = []
    for name, case in cases.items():
        seconds = [call_rewards(*case(i)) for i in range(calls)]
        everything += seconds
        print(f"  {name:34s}{quantiles(seconds)}")
    return everything


def run_threads(calls: int) -> tuple[int, int, float, float]:
    """(answered, submitted, wall seconds, slowest call) for all cases from 16 threads."""
    cases = [*TYPICAL.values(), *ADVERSARIAL.values()]
    jobs = [case(i) for case in cases for i in range(max(1, calls // 5))]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=16) as threads:
        seconds = list(threads.map(lambda job: call_rewards(*job), jobs))
    return len(seconds), len(jobs), time.perf_counter() - start, max(seconds)


def run_trl_path(batches: int) -> tuple[int, int, float]:
    """(rewards answered, expected, slowest batch seconds) through TRL's own reward call."""
    from accelerate import Accelerator
    from transformers import TrainerState
    from trl import GRPOTrainer

    functions = list(REWARD_FUNCTIONS.values())
    trainer = SimpleNamespace(  # exactly the attributes _calculate_rewards reads
        accelerator=Accelerator(cpu=True),
        reward_funcs=functions,
        reward_processing_classes=[None] * len(functions),
        reward_func_names=list(REWARD_FUNCTIONS),
        state=TrainerState(),
        args=SimpleNamespace(report_to=[]),
        environments=None,
        _log_completion_extra=lambda column, values: None,
        _log_metric=lambda name, value: None,
    )
    answered, slowest = 0, 0.0
    cases = [*TYPICAL.values(), *ADVERSARIAL.values()]
    for batch in range(batches):
        pairs = [case(batch * 100 + k) for k, case in enumerate(cases)]
        prompts = [[{"role": "user", "content": f"Problem {k}"}] for k in range(len(pairs))]
        completions = [[{"role": "assistant", "content": text}] for text, _ in pairs]
        inputs = [
            {"prompt": p, "answer": gold, "problem": "q"}
            for p, (_, gold) in zip(prompts, pairs, strict=True)
        ]
        start = time.perf_counter()
        rewards = GRPOTrainer._calculate_rewards(
            trainer, inputs, prompts, completions, [[1]] * len(pairs)
        )
        slowest = max(slowest, time.perf_counter() - start)
        answered += int((~rewards.isnan()).sum())
    return answered, batches * len(cases) * len(functions), slowest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30, help="calls per case")
    calls = parser.parse_args().calls
    accuracy_reward(["\\boxed{x+1}"], answer=["1+x"])  # start the pool outside the timing
    print(f"{'ms per call (3 rewards)':36s}{'p50':>9s}{'p99':>9s}{'max':>9s}")
    print("typical")
    typical = run_sequential(TYPICAL, calls)
    print("adversarial")
    adversarial = run_sequential(ADVERSARIAL, calls)
    print(f"  {'all typical':34s}{quantiles(typical)}")
    print(f"  {'all adversarial':34s}{quantiles(adversarial)}")
    slowest = max(typical + adversarial)
    p50 = statistics.median(typical)
    print(f"typical p50 {p50 * 1e3:.2f} ms: {'within' if p50 < TYPICAL_P50_S else 'OVER'} 5 ms")
    verdict = "within" if slowest < BOUND_S else "OVER"
    print(f"slowest call {slowest * 1e3:.0f} ms: {verdict} {BOUND_S:.0f} s", end=" ")
    print(f"(load average {os.getloadavg()[0]:.1f}, on {os.cpu_count()} cores)")
    answered, submitted, wall, slowest = run_threads(calls)
    print(f"16 threads: {answered}/{submitted} calls answered in {wall:.1f} s,", end=" ")
    print(f"slowest {slowest * 1e3:.0f} ms")
    answered, expected, slowest = run_trl_path(batches=3)
    print(f"TRL _calculate_rewards: {answered}/{expected} rewards answered,", end=" ")
    print(f"slowest batch {slowest:.1f} s")


if __name__ == "__main__":
    main()
