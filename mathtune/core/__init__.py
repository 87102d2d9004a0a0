"""What every step uses and nothing else: params, errors, atomic files, the Parquet schemas,
processes and their launch, statistics, W&B tracking and figures. Imports no other part of
the package."""
