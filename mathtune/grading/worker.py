"""What a grading worker process imports first: math-verify, warmed up.

The pool's forkserver imports this module once (`pool.PRELOAD`), so every worker it forks,
including one that replaces a killed worker, starts with sympy imported and its lazy
imports and caches filled: ready at once, where a cold start takes seconds during which
comparisons would wait. The in-process path imports it before its first comparison, so that
those seconds are not counted in that comparison's CPU budget. Nothing else imports it;
anywhere else it would spend those seconds for nothing.
"""

from __future__ import annotations

from mathtune.grading.compare import answers_equal, silence_math_verify

# One comparison of each kind that first loads a part of sympy (expansion, relations against
# intervals, sets, equations, matrices), so that no budget pays for a lazy import.
WARM_UP = [
    ("(x+1)^2", "x^2+2x+1"),
    ("[-2, 7]", r"-2 \le x \le 7"),
    (r"\{1, 2\}", "2, 1"),
    ("2x+4y-3=0", r"y=-\frac12x+\frac34"),
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", r"\begin{bmatrix}1&2\\3&4\end{bmatrix}"),
]

silence_math_verify()
for _predicted, _gold in WARM_UP:
    answers_equal(_predicted, _gold)
