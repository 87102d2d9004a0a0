"""export: the adapter chosen by params → the base with it merged, as one plain model folder.

Inputs: the SFT adapter (train stage) and the GRPO adapter (grpo stage), of which
params.yaml `export.adapter` picks one, and `model:` for the base. Output: a folder that
`transformers.AutoModelForCausalLM.from_pretrained`, `vllm serve` and llama.cpp's converter
load without peft or mathtune: safetensors weights in `export.dtype`, config, tokenizer with
its chat template, a generation config that stops at the end of the assistant's turn, and
mathtune_export.json naming the base, its revision and the adapter (mathtune/export/merge.py).
The adapter is checked against the base before any weights load; the folder is written all
or nothing.

    python stages/export.py --sft-adapter-dir models/adapter \
        --grpo-adapter-dir models/grpo_adapter --out-dir models/merged
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from mathtune.core.errors import exit_on_error
from mathtune.core.params import load_params
from mathtune.export.merge import describe_export, merge_adapter, save_merged
from mathtune.models.loading import check_adapter, load_tokenizer, locate_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sft-adapter-dir", required=True, type=Path, help="SFT adapter folder")
    parser.add_argument("--grpo-adapter-dir", required=True, type=Path, help="GRPO adapter folder")
    parser.add_argument("--out-dir", required=True, type=Path, help="merged model folder")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    adapter_dirs = {"sft": args.sft_adapter_dir, "grpo": args.grpo_adapter_dir}
    with exit_on_error("export"):
        params = load_params()
        location = locate_model(params.model)
        adapter_dir = adapter_dirs[params.export.adapter]
        check_adapter(adapter_dir, location)
        record = describe_export(location, params.export.adapter, adapter_dir, params.export.dtype)
        tokenizer = load_tokenizer(location)
        model = merge_adapter(location, adapter_dir)
    save_merged(model, tokenizer, args.out_dir, record)
    print(
        f"export: {record.base_model} + {record.adapter} adapter ({adapter_dir}) merged in "
        f"{record.dtype} to {args.out_dir}"
    )


if __name__ == "__main__":
    main()
