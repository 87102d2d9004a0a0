"""prepare: raw OpenR1-Math-220k rows → train/validation/held-out Parquet splits and counts.

Inputs: the source named in params.yaml `prepare:` (the synthetic curriculum by default,
local files or the hub) and any benchmark files in prepare.decontaminate_against. Outputs:
<out-dir>/train.parquet, validation.parquet (seen families) and heldout.parquet (families
kept out of training), with columns uuid, problem, answer, target, problem_type,
question_type, source, family and gradable; the report JSON (rows per split, drops per
reason) and the statistics JSON (lengths, rows per family).

    python stages/prepare.py --out-dir data/prepared --report reports/prepare.json \
        --stats data/prepared/stats.json
"""

from __future__ import annotations

import argparse
import logging

from mathtune.core.errors import exit_on_error
from mathtune.core.io import write_json
from mathtune.core.params import load_params
from mathtune.data.decontamination import read_problem_texts
from mathtune.data.examples import read_examples
from mathtune.data.metrics import prepare_counts, prepare_stats
from mathtune.data.sources import open_source
from mathtune.data.splits import SplitRule, write_splits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", required=True, help="folder for the split Parquet files")
    parser.add_argument("--report", required=True, help="JSON file of counts: rows, drops")
    parser.add_argument("--stats", required=True, help="JSON file for descriptive statistics")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    with exit_on_error("prepare"):
        params = load_params().prepare
        benchmark = [
            text for path in params.decontaminate_against for text in read_problem_texts(path)
        ]
        rule = SplitRule(
            salt=params.split_salt,
            validation_fraction=params.validation_fraction,
            heldout_families=frozenset(params.heldout_families),
            ngram=params.decontaminate_ngram,
            decontaminate_validation=params.decontaminate_validation,
            benchmark_problems=tuple(benchmark),
        )
        # No global seed: the synthetic source seeds each row from prepare.synthetic.seed and
        # the split hashes uuids, so nothing here draws random numbers.
        outcomes = read_examples(open_source(params), params.target, params.max_rows)
        report = write_splits(outcomes, args.out_dir, rule)
    counts = prepare_counts(report)
    write_json(args.report, counts)
    write_json(args.stats, prepare_stats(report))
    for key, value in counts.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
