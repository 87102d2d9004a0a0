r"""Benchmark: calls per second of the reward functions on typical and worst-case inputs.

Each case builds a fresh (completion, gold) pair for every call, with the call's number
inside it, so the checker's caches never answer for it. For each case it prints the calls
per second of `accuracy_reward`, `format_reward` and `reasoning_reward` (one completion per
call), and the slowest single call; at the end, the slowest call of the whole run against
the issue's bound of 1 s.

    .venv/bin/python benchmarks/bench_rewards.py --seconds 1.0
"""

from __future__ import annotations

import argparse
import random
import string
import time
from collections.abc import Callable

from mathtune.rewards import accuracy_reward, format_reward, reasoning_reward

BOUND_S = 1.0  # the worst case per call
GARBAGE = "".join(random.Random(0).choice(string.printable) for _ in range(100_000))
REASONING = "Let me check this step again: 23 + 15 = 38, so the total is 38.\n" * 300

Case = Callable[[int], tuple[str, str]]
TYPICAL: dict[str, Case] = {
    "boxed integer": lambda i: (
        f"<think>\n{i} + 1 = {i + 1}\n</think>\n\\boxed{{{i + 1}}}",
        f"{i + 1}",
    ),
    "fraction vs decimal": lambda i: (f"So $\\boxed{{\\frac{{{i}}}{{4}}}}$.", f"{i / 4}"),
    "unordered list": lambda i: (
        f"The roots are $\\boxed{{{i}, {i + 1}, -3}}$.",
        f"-3, {i + 1}, {i}",
    ),
    "assignments": lambda i: (f"Therefore $x = {i}$ and $y = -1$.", f"x={i}, y=-1"),
    "expression": lambda i: (f"\\boxed{{2\\sqrt{{{i + 2}}} x}}", f"x\\sqrt{{{4 * (i + 2)}}}"),
    "20 KB R1 trace": lambda i: (f"<think>\n{REASONING}</think>\n\n$\\boxed{{{i}}}$", f"{i}"),
}
WORST: dict[str, Case] = {
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
    "list of 80 expressions": lambda i: (
        "\\boxed{" + ", ".join(f"{k}x+{i}" for k in range(80)) + "}",
        ", ".join(f"{i}+{k}x" for k in reversed(range(80))),
    ),
    "40 nested point lists": lambda i: ("\\boxed{" + f"(({i},2),(3,4),(5,6))," * 40 + "}", f"{i}"),
    "20,000 boxes": lambda i: (f"\\boxed{{{i}}} " * 20_000, f"{i}"),
    "100,000 dollar signs": lambda i: ("$" * 100_000 + f"{i}", f"{i}"),
}
REWARDS = {
    "accuracy": lambda completion, gold: accuracy_reward([completion], answer=[gold]),
    "format": lambda completion, gold: format_reward([completion]),
    "reasoning": lambda completion, gold: reasoning_reward([completion]),
}


def measure(case: Case, reward: Callable[[str, str], list[float]], seconds: float) -> tuple:
    """(calls per second, slowest call in seconds) over about `seconds` of fresh inputs."""
    calls, busy, slowest = 0, 0.0, 0.0
    while busy < seconds or calls < 5:
        completion, gold = case(calls)
        start = time.perf_counter()
        reward(completion, gold)
        elapsed = time.perf_counter() - start
        calls, busy, slowest = calls + 1, busy + elapsed, max(slowest, elapsed)
    return calls / busy, slowest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per case and reward")
    seconds = parser.parse_args().seconds
    print(f"{'case':28s}{'accuracy/s':>12s}{'format/s':>12s}{'reasoning/s':>12s}{'max ms':>10s}")
    worst_call, worst_case = 0.0, ""
    for kind, cases in (("typical", TYPICAL), ("worst case", WORST)):
        print(f"-- {kind}")
        for name, case in cases.items():
            results = [measure(case, reward, seconds) for reward in REWARDS.values()]
            slowest = max(result[1] for result in results)
            if slowest > worst_call:
                worst_call, worst_case = slowest, name
            rates = "".join(f"{rate:12,.0f}" for rate, _ in results)
            print(f"{name:28s}{rates}{slowest * 1000:10.2f}")
    verdict = "within" if worst_call < BOUND_S else "OVER"
    print(
        f"slowest call: {worst_call * 1000:.1f} ms ({worst_case}), {verdict} the {BOUND_S} s bound"
    )


if __name__ == "__main__":
    main()
