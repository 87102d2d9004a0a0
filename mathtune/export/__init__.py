"""The export step: a trained adapter merged into its base, saved as one plain model."""
