"""Requests: what every model answers, greedy for every set, samples for benchmarks."""

from __future__ import annotations

import yaml

from conftest import REPO
from mathtune.core.params import build_params
from mathtune.eval.requests import build_requests
from mathtune.eval.sets import EvalSet, Problem
from mathtune.models.generation import Decoding

SEEN = EvalSet(
    "seen", [Problem("u1", "2 + 2?", "4", "Algebra", "sum"), Problem("u2", "3 * 3?", "9", "", "")]
)


def test_requests_give_benchmarks_their_length_and_seeded_samples():
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["evaluate"].update(max_new_tokens=64)
    raw["evaluate"]["benchmarks"].update(max_new_tokens=512, samples=4, temperature=0.6, seed=3)
    evaluate = build_params(raw).evaluate
    bench = EvalSet("math500", SEEN.problems[:1], benchmark=True)
    requests = build_requests([SEEN, bench], evaluate)
    assert [(r.name, r.decoding) for r in requests] == [
        ("seen", Decoding(64)),
        ("math500", Decoding(512)),
        ("math500/sampled", Decoding(512, samples=4, temperature=0.6, top_p=0.95, seed=3)),
    ]
    assert requests[0].problems == [problem.problem for problem in SEEN.problems]
    raw["evaluate"]["benchmarks"]["samples"] = 0
    assert [r.name for r in build_requests([SEEN, bench], build_params(raw).evaluate)] == [
        "seen",
        "math500",
    ]
