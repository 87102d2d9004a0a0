"""grpo: SFT adapter → GRPO-trained adapter, reward metrics and the reward curve.

Inputs: the train split of the prepare stage, the SFT adapter of the train stage, and
params.yaml `model:`, `grpo:` and `wandb:`. Outputs: the adapter folder (same files as the
SFT adapter), the report JSON (per reward its first and last means, frac_reward_zero_std,
truncated share, completion length, KL when beta > 0, steps, completions/s, runtime), its
headline as the DVC metrics JSON (the last mean total reward) and the reward-curve CSV
(step, one column per reward, total) and its PNG. With `grpo.enabled: false` the adapter
folder is an exact copy of the SFT adapter and the report says 0 steps.
Checkpoints go to --checkpoint-dir every grpo.save_steps; a killed run resumes from them,
and they are removed once every output is in place. Under several processes
(launch.num_processes, via `python -m mathtune.core.launch`) each rank samples and trains on its
share of every step's completions (the step's total stays prompts_per_step x
generations_per_prompt), and rank 0 alone writes the outputs and the W&B run.

    python stages/grpo.py --train data/prepared/train.parquet --sft-adapter-dir models/adapter \
        --adapter-dir models/grpo_adapter --checkpoint-dir checkpoints/grpo \
        --metrics metrics/grpo.json --report reports/grpo.json --plot plots/grpo_reward.csv \
        --figure plots/grpo_reward.png
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from mathtune.core import distributed
from mathtune.core.errors import exit_on_error
from mathtune.core.figures import write_curve_png
from mathtune.core.io import write_metrics
from mathtune.core.params import GrpoParams, load_params
from mathtune.core.tracking import start_run
from mathtune.rl.metrics import HEADLINE, write_reward_curve
from mathtune.rl.setup import GrpoPaths, check_grpo
from mathtune.rl.trainer import copy_sft_adapter, disabled_metrics, train_grpo
from mathtune.training.checkpoints import discard_checkpoints

FIGURE_TITLE = "GRPO reward per step (mean over the step's completions)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True, type=Path, help="train split (Parquet)")
    parser.add_argument("--sft-adapter-dir", required=True, type=Path, help="SFT adapter folder")
    parser.add_argument("--adapter-dir", required=True, type=Path, help="GRPO adapter folder")
    parser.add_argument("--checkpoint-dir", required=True, type=Path, help="resumable state")
    parser.add_argument("--metrics", required=True, help="JSON file of the headline metrics")
    parser.add_argument("--report", required=True, help="JSON file of every GRPO figure")
    parser.add_argument("--plot", required=True, help="CSV file for the reward curve")
    parser.add_argument("--figure", required=True, help="PNG file for the reward curve")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    paths = GrpoPaths(args.train, args.sft_adapter_dir, args.adapter_dir, args.checkpoint_dir)
    with exit_on_error("grpo"):
        params = load_params()
        setup = check_grpo(params, paths)
        if not params.grpo.enabled:
            if distributed.writes_files():
                write_disabled_outputs(args, paths, params.grpo)
            return
        run = start_run(params, job_type="grpo")
        result = train_grpo(params, setup, paths, tracking=run)
    if distributed.writes_files():
        write_metrics(args.metrics, args.report, result.metrics, HEADLINE)
        write_reward_curve(args.plot, result.reward_curve, result.reward_names)
        write_curve_png(args.plot, args.figure, title=FIGURE_TITLE, y_label="reward")
        discard_checkpoints(args.checkpoint_dir)  # last: a kill before this still resumes
    run.log_table("grpo/completions", *result.completions)
    run.summarize(result.metrics)
    run.finish()
    if distributed.is_main():
        for key, value in result.metrics.items():
            print(f"{key}: {value}")


def write_disabled_outputs(args: argparse.Namespace, paths: GrpoPaths, grpo: GrpoParams) -> None:
    """RL off: the SFT adapter copied, metrics of 0 steps, an empty reward curve."""
    copy_sft_adapter(paths)
    write_metrics(args.metrics, args.report, disabled_metrics(), HEADLINE)
    write_reward_curve(args.plot, [], list(grpo.rewards))
    write_curve_png(args.plot, args.figure, title=FIGURE_TITLE, y_label="reward")
    discard_checkpoints(args.checkpoint_dir)
    print(f"grpo disabled: {args.adapter_dir} is a copy of {args.sft_adapter_dir}")


if __name__ == "__main__":
    main()
