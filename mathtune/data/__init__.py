"""The prepare step: raw OpenR1-Math-220k rows (hub, local files or the curriculum) to
decontaminated train, validation and held-out-family Parquet splits, with their counts."""
