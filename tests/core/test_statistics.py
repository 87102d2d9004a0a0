"""Mean and standard error: what every reported figure and its error bar come from."""

from __future__ import annotations

import doctest
import math

import pytest

import mathtune.core.statistics
from mathtune.core.statistics import mean, standard_error


def test_doctests_pass():
    assert doctest.testmod(mathtune.core.statistics).failed == 0


def test_an_empty_group_has_no_mean_rather_than_a_score_of_zero():
    assert math.isnan(mean([]))


@pytest.mark.parametrize(
    "values, expected",
    [
        ([1, 1, 1, 1], 0.0),  # no spread
        ([1, 0], 0.5),  # sd 0.7071 over sqrt(2)
        ([1] * 5 + [0] * 15, math.sqrt(0.25 * 0.75 * 20 / 19 / 20)),  # 25% of 20, sample variance
    ],
)
def test_standard_error_is_the_sample_sd_over_the_root_of_the_count(values, expected):
    assert standard_error(values) == pytest.approx(expected)
