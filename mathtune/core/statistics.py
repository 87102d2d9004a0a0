"""The two summaries every report of this project uses: a mean and its standard error.

>>> mean([1, 0, 1, 1]), round(standard_error([1, 0, 1, 0]), 6)
(0.75, 0.288675)
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def mean(values: Iterable[float]) -> float:
    """Arithmetic mean; NaN for no values, which have no mean (0 would read as a score).

    >>> mean([True, False]), math.isnan(mean([]))
    (0.5, True)
    """
    values = [float(value) for value in values]
    return math.fsum(values) / len(values) if values else math.nan


def standard_error(values: Iterable[float]) -> float:
    """Standard error of a mean: the sample standard deviation over the square root of the
    count, as lm-evaluation-harness reports it; 0 for fewer than two values.

    A figure without it cannot be judged: on 48 problems an accuracy of 20% is 20% +- 5.8
    points, so a change smaller than about twice that is noise.

    >>> standard_error([1]), standard_error([])
    (0.0, 0.0)
    """
    values = [float(value) for value in values]
    if len(values) < 2:
        return 0.0
    center = sum(values) / len(values)
    variance = sum((value - center) ** 2 for value in values) / (len(values) - 1)
    return math.sqrt(variance / len(values))
