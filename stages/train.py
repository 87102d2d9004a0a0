"""train: prepared splits → LoRA adapter, train metrics and the loss curve.

Inputs: the train and validation Parquet files of the prepare stage, and params.yaml
`model:`, `train:` and `wandb:`. Outputs: the adapter folder (adapter_model.safetensors,
adapter_config.json, tokenizer files), the report JSON (final train and eval loss, steps,
tokens seen, runtime, tokens/s) and its headline as the DVC metrics JSON (the two losses),
the loss-curve CSV (step, train_loss, eval_loss) and its PNG figure
(readable where `dvc plots show` cannot load vega, i.e. offline). Checkpoints go
to --checkpoint-dir every train.save_steps; a killed run resumes from them, and they are
removed once every output is in place. Under several processes (launch.num_processes, via
`python -m mathtune.core.launch`) every rank trains on its share of the batches and rank 0
alone writes the outputs and the W&B run.

    python stages/train.py --train data/prepared/train.parquet \
        --validation data/prepared/validation.parquet --adapter-dir models/adapter \
        --checkpoint-dir checkpoints/train --metrics metrics/train.json \
        --report reports/train.json --plot plots/train_loss.csv --figure plots/train_loss.png
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from mathtune.core import distributed
from mathtune.core.errors import exit_on_error
from mathtune.core.figures import write_curve_png
from mathtune.core.io import write_metrics
from mathtune.core.params import load_params
from mathtune.core.tracking import start_run
from mathtune.sft.metrics import HEADLINE, write_loss_curve
from mathtune.sft.trainer import TrainPaths, check_training, parquet_rows, train_adapter
from mathtune.training.checkpoints import discard_checkpoints


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True, type=Path, help="train split (Parquet)")
    parser.add_argument("--validation", required=True, type=Path, help="validation split")
    parser.add_argument("--adapter-dir", required=True, type=Path, help="final adapter folder")
    parser.add_argument("--checkpoint-dir", required=True, type=Path, help="resumable state")
    parser.add_argument("--metrics", required=True, help="JSON file of the headline metrics")
    parser.add_argument("--report", required=True, help="JSON file of every train figure")
    parser.add_argument("--plot", required=True, help="CSV file for the loss curve")
    parser.add_argument("--figure", required=True, help="PNG file of the loss curve")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    paths = TrainPaths(args.train, args.validation, args.adapter_dir, args.checkpoint_dir)
    with exit_on_error("train"):
        params = load_params()
        setup = check_training(params, train_rows=parquet_rows(paths.train))
        run = start_run(params, job_type="train")
        result = train_adapter(params, setup, paths, tracking=run)
    if distributed.writes_files():
        write_metrics(args.metrics, args.report, result.metrics, HEADLINE)
        write_loss_curve(args.plot, result.loss_curve)
        write_curve_png(args.plot, args.figure, title="Training loss", y_label="loss")
        discard_checkpoints(args.checkpoint_dir)  # last: a kill before this still resumes
    run.summarize(result.metrics)
    run.finish()
    if distributed.is_main():
        for key, value in result.metrics.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
