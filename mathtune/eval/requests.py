"""What evaluation asks every model to answer, and the shape of the answers.

A `Request` names problems and one `Decoding` (greedy, or seeded samples); the base model
and base + each adapter answer every request, whatever the backend, and the answers come
back as

    answers["sft"]["heldout"][3] == [Generation(text="... \\boxed{12}", generated_tokens=41,
                                                truncated=False)]

(one completion per problem when greedy, `samples` when sampled).
"""

from __future__ import annotations

from dataclasses import dataclass

from mathtune.core.params import EvaluateParams
from mathtune.eval.sets import EvalSet
from mathtune.models.generation import Decoding, Generation

BASE_MODEL = "base"  # the model without adapter; every other model is named after its adapter


@dataclass(frozen=True)
class Request:
    """Problems every model answers with one decoding; `name` keys the answers."""

    name: str
    problems: list[str]
    decoding: Decoding


# answers[model][request name][problem index] -> that problem's completions (one when greedy)
Answers = dict[str, dict[str, list[list[Generation]]]]


def build_requests(eval_sets: list[EvalSet], evaluate: EvaluateParams) -> list[Request]:
    """Greedy answers for every set; benchmarks also get their seeded pass@1 samples."""
    bench = evaluate.benchmarks
    requests = []
    for eval_set in eval_sets:
        problems = [problem.problem for problem in eval_set.problems]
        limit = bench.max_new_tokens if eval_set.benchmark else evaluate.max_new_tokens
        requests.append(Request(eval_set.name, problems, Decoding(limit)))
        if eval_set.benchmark and bench.samples > 0:
            sampling = Decoding(limit, bench.samples, bench.temperature, bench.top_p, bench.seed)
            requests.append(Request(sampled_name(eval_set.name), problems, sampling))
    return requests


def sampled_name(split: str) -> str:
    """Name of the request that samples completions of `split` for pass@1."""
    return f"{split}/sampled"
