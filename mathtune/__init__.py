"""Fine-tune small language models for step-by-step math reasoning.

The stages in `stages/` are thin: they read `params.yaml` through `mathtune.params`
and call the modules of this package, one concept per module.
"""
