"""Fine-tune small language models for step-by-step math reasoning, versioned with DVC.

The stages in `stages/` are thin: they read `params.yaml` through `mathtune.core.params` and
call one step package each: `data` (prepare), `sft` (train), `rl` (grpo), `eval`
(evaluate), `export` (export). The `mathtune` command (`__main__.py`) runs `solve`, the step
that answers problems with a trained model. Step packages never import each other; they
build on the shared ones: `core` (params, errors, files, processes, tracking, figures),
`models` (loading, prompts, generation), `training` (what SFT and RL share), `grading` (the
answer checker) and `curriculum` (the synthetic problems). `tests/test_layout.py` holds the
rule.
"""
