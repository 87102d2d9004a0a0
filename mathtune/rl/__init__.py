"""The grpo step: reinforcement learning of the SFT adapter with TRL's GRPOTrainer on the
project's own rewards (prompts, set-up checks, the run and its reward metrics)."""
