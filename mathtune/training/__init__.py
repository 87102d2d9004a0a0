"""What SFT and RL training share: batch sizes, resumable checkpoints, trainer options and
saving adapters."""
