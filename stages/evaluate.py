"""evaluate: seen, held-out and probe problems (and benchmarks) → accuracy of base and adapters.

Inputs: the prepared validation split (families training saw), the held-out split (whole
families kept out of training), the probe sets of params.yaml (problems written outside the
curriculum), each adapter named on the command line, and params.yaml `model:`, `evaluate:`
and `wandb:`. An adapter byte-identical to an earlier one (the grpo adapter when RL is off)
is evaluated once, under the earlier name. Up to evaluate.max_samples rows per split, spread
over its families, and evaluate.probe_samples probe problems, spread over the sets and their
categories, are answered greedily by the base model and by base + each adapter (one model
load, one pass per model), plus the benchmarks that evaluate.benchmarks turns on (greedy and
seeded samples for pass@1). Every answer is graded once by the checker the RL rewards use
(mathtune.grading).

Outputs: the report JSON (every figure; layout in mathtune/eval/metrics.py) and its headline
as the DVC metrics JSON, the breakdown JSON (per family, problem type, level, subject), the
predictions Parquet (one row per model, problem and completion), the accuracy plot CSV and
two PNG figures (accuracy per model and set, accuracy per family).

    python stages/evaluate.py --validation data/prepared/validation.parquet \
        --heldout data/prepared/heldout.parquet --adapter sft=models/adapter \
        --metrics metrics/eval.json --report reports/eval.json \
        --breakdown reports/eval_breakdown.json --predictions data/eval/predictions.parquet \
        --plot plots/eval_accuracy.csv --accuracy-figure plots/eval_accuracy.png \
        --family-figure plots/eval_families.png
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

from mathtune.core import distributed
from mathtune.core.errors import exit_on_error
from mathtune.core.figures import write_accuracy_png, write_family_png
from mathtune.core.io import write_csv, write_json, write_metrics, write_parquet
from mathtune.core.params import load_params
from mathtune.core.tracking import start_run
from mathtune.eval.answers import check_backend, generate_answers
from mathtune.eval.metrics import (
    STDERR,
    accuracy_by_group,
    accuracy_rows,
    build_breakdown,
    build_metrics,
    family_accuracy,
    headline_keys,
)
from mathtune.eval.requests import build_requests
from mathtune.eval.scoring import (
    PREDICTIONS_SCHEMA,
    drop_repeated_adapters,
    parse_adapter_option,
    predictions_table,
    score_answers,
)
from mathtune.eval.sets import read_benchmarks, read_probe_sets, read_split
from mathtune.models.loading import locate_model


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validation", required=True, type=Path, help="seen-family split")
    parser.add_argument("--heldout", required=True, type=Path, help="held-out-family split")
    parser.add_argument(
        "--adapter",
        action="append",
        default=[],
        type=_adapter_option,
        metavar="NAME=PATH",
        help="an adapter to evaluate as model NAME (repeat for more; base is always evaluated)",
    )
    for option, what in [
        ("--metrics", "JSON file of the headline metrics"),
        ("--report", "JSON file of every eval figure"),
        ("--breakdown", "JSON file for per-group accuracies (not a DVC metric)"),
        ("--predictions", "Parquet file for the predictions"),
        ("--plot", "CSV file for the accuracy bar chart"),
        ("--accuracy-figure", "PNG of accuracy per model and set"),
        ("--family-figure", "PNG of accuracy per model and family"),
    ]:
        parser.add_argument(option, required=True, type=Path, help=what)
    return parser.parse_args()


def _adapter_option(text: str) -> tuple[str, Path]:
    try:
        return parse_adapter_option(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def main() -> None:
    args = parse_arguments()
    adapters = drop_repeated_adapters(dict(args.adapter))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    with exit_on_error("evaluate"):
        params = load_params()
        check_backend(params.evaluate, params.model)
        limit = params.evaluate.max_samples
        eval_sets = [read_split("seen", args.validation, limit)]
        eval_sets += [read_split("heldout", args.heldout, limit)]
        eval_sets += [read_probe_sets(params.evaluate.probe_sets, params.evaluate.probe_samples)]
        eval_sets += read_benchmarks(params.evaluate.benchmarks)
        requests = build_requests(eval_sets, params.evaluate)
        # Under several processes each rank runs its share of the batches and every rank
        # gets all answers back. No seed here: sampling seeds each batch itself.
        answers = generate_answers(
            locate_model(params.model), adapters, requests, params.evaluate, params.model.precision
        )
    if not distributed.writes_files():
        return
    models = list(answers)
    predictions = score_answers(eval_sets, answers)
    metrics = build_metrics(predictions, eval_sets)
    breakdown = build_breakdown(predictions, eval_sets)
    write_metrics(args.metrics, args.report, metrics, headline_keys(models))
    write_json(args.breakdown, breakdown)
    write_parquet(args.predictions, predictions_table(predictions))
    write_csv(args.plot, accuracy_rows(metrics, models, eval_sets))
    write_accuracy_png(
        args.accuracy_figure,
        accuracy_by_group(metrics, models, eval_sets),
        accuracy_by_group(metrics, models, eval_sets, STDERR),
    )
    write_family_png(args.family_figure, family_accuracy(breakdown, eval_sets))
    run = start_run(params, job_type="evaluate")
    run.log(metrics)
    run.summarize(metrics)
    rows = [list(dataclasses.astuple(prediction)) for prediction in predictions]
    run.log_table("eval/predictions", PREDICTIONS_SCHEMA.names, rows)
    run.finish()
    for key, value in metrics.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
