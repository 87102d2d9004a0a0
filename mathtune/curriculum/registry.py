"""Every curriculum family by name, in a fixed order: row `i` of the synthetic source comes
from family `i mod len(FAMILIES)`, so each family gets the same share of rows.

    >>> len(FAMILIES) >= 25 and "addition" in FAMILIES
    True
"""

from __future__ import annotations

from mathtune.curriculum import (
    algebra,
    arithmetic,
    fractions,
    geometry,
    number_theory,
    rates,
    word_problems,
)
from mathtune.curriculum.problems import Family

FAMILIES: dict[str, Family] = {
    **arithmetic.FAMILIES,
    **fractions.FAMILIES,
    **rates.FAMILIES,
    **algebra.FAMILIES,
    **geometry.FAMILIES,
    **number_theory.FAMILIES,
    **word_problems.FAMILIES,
}
FAMILY_NAMES: tuple[str, ...] = tuple(FAMILIES)
