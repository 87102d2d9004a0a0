"""evaluate: validation problems → base vs tuned accuracy, reasoning metrics and predictions.

Inputs: the prepared validation split, the trained adapter folder and params.yaml `model:`,
`evaluate:` and `wandb:`. The first evaluate.max_samples problems are answered greedily by
the base model and by base + adapter (one model load, two passes), and every answer is
scored with the project's reward functions. Outputs: the metrics JSON (eval/base/*,
eval/tuned/*, eval/delta/* = tuned - base), the predictions Parquet (one row per model and
problem) and the plot CSV (model, accuracy, format_rate, reasoning_quality).

    python stages/evaluate.py --validation data/prepared/validation.parquet \
        --adapter-dir models/adapter --metrics metrics/eval.json \
        --predictions data/eval/predictions.parquet --plot plots/eval_accuracy.csv
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from pathlib import Path

from mathtune.distributed import map_sharded, writes_files
from mathtune.evaluation import (
    PREDICTIONS_SCHEMA,
    evaluate_generations,
    predictions_table,
    read_validation,
    write_accuracy_plot,
)
from mathtune.generation import GenerationError, check_backend, generate_answers
from mathtune.models import ModelLoadError, locate_model
from mathtune.outputs import write_json, write_parquet
from mathtune.params import ParamsError, load_params
from mathtune.schema import SplitError
from mathtune.tracking import start_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validation", required=True, type=Path, help="validation split")
    parser.add_argument("--adapter-dir", required=True, type=Path, help="trained adapter folder")
    parser.add_argument("--metrics", required=True, help="JSON file for the eval metrics")
    parser.add_argument("--predictions", required=True, help="Parquet file for the predictions")
    parser.add_argument("--plot", required=True, help="CSV file for the accuracy bar chart")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        params = load_params()
        check_backend(params.evaluate, params.model)
        # No seed: greedy decoding draws no random numbers.
        validation = read_validation(args.validation, params.evaluate.max_samples)
        location = locate_model(params.model)
        # Under several processes each answers a contiguous share; all get every answer.
        generations = map_sharded(
            lambda problems: generate_answers(
                location, args.adapter_dir, problems, params.evaluate, params.model.precision
            ),
            validation.problem,
        )
    except (ParamsError, GenerationError, SplitError, ModelLoadError) as err:
        sys.exit(f"evaluate failed: {err}")
    if not writes_files():
        return
    result = evaluate_generations(validation, generations)
    write_json(args.metrics, result.metrics)
    write_parquet(args.predictions, predictions_table(result.predictions))
    write_accuracy_plot(args.plot, result.per_model)
    run = start_run(params, job_type="evaluate")
    run.log(result.metrics)
    run.summarize(result.metrics)
    rows = [list(dataclasses.astuple(prediction)) for prediction in result.predictions]
    run.log_table("eval/predictions", PREDICTIONS_SCHEMA.names, rows)
    run.finish()
    for key, value in result.metrics.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
