"""prepare: raw OpenR1-Math-220k rows → train/validation Parquet splits and row metrics.

Inputs: the source named in params.yaml `prepare:` (synthetic by default, local files or the
hub). Outputs: <out-dir>/train.parquet and <out-dir>/validation.parquet (uuid, problem,
answer, target, problem_type, question_type, source) and the metrics JSON (rows per split,
drops per reason, length statistics).

    python stages/prepare.py --out-dir data/prepared --metrics metrics/prepare.json
"""

from __future__ import annotations

import argparse
import logging
import sys

from mathtune.examples import DataError, ExampleCounts, iter_examples
from mathtune.outputs import write_json
from mathtune.params import ParamsError, load_params
from mathtune.sources import SourceError, open_source
from mathtune.splits import prepare_metrics, write_splits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", required=True, help="folder for train/validation.parquet")
    parser.add_argument("--metrics", required=True, help="JSON file for the prepare metrics")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        params = load_params().prepare
        # No global seed: the synthetic source seeds each row from prepare.synthetic.seed and
        # the split hashes uuids, so nothing here draws random numbers.
        source = open_source(params)
        counts = ExampleCounts()
        examples = iter_examples(source, params.target, params.max_rows, counts)
        summary = write_splits(
            examples, args.out_dir, params.split_salt, params.validation_fraction
        )
    except (ParamsError, SourceError, DataError) as err:
        sys.exit(f"prepare failed: {err}")
    metrics = prepare_metrics(counts, summary)
    write_json(args.metrics, metrics)
    for key, value in metrics.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
