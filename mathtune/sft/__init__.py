"""The train step: supervised LoRA fine-tuning on the prepared splits (tokenized examples,
padding-free batches, attention within each example, the Trainer run and its metrics)."""
