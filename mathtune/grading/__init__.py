"""Answer grading, one module per step: extract -> compare -> grade -> rewards.

- `extract`: the final answer of a completion (or of a gold solution), and whether it is boxed;
  `sentences`: the value a sentence states, in any language;
- `choices`: the letter a choice gold names and the one a completion commits to;
- `readings`: an answer rewritten where math-verify misreads it (`1 000`, `1,22`, `25%`, ...);
- `compare`: in-process verdicts for plain numbers, and `answers_equal`, math-verify's
  symbolic comparison of the readings;
- `pool` and `worker`: worker processes that run `answers_equal`, each comparison under a
  CPU-time budget (`budget`), and the in-process path when they cannot run;
- `grader`: `grade_completion(s)`, one `Grade` per completion: what every consumer reads;
- `rewards`: TRL reward functions and their registry; `reasoning`: the step-by-step score.

Nothing is imported here, so that `prompts` (training) can use `extract` without loading
the pool or sympy.
"""
