"""A grade-school curriculum of problem families in the OpenR1-Math-220k schema.

Each module covers one skill area and maps family names to generators (`registry.py`
gathers them); `rows.py` turns a generated problem into a raw OpenR1 row whose `source`
column is `synthetic/<family>`. Used offline and in tests instead of the hub data set.
"""

from mathtune.curriculum.registry import FAMILIES, FAMILY_NAMES
from mathtune.curriculum.rows import SOURCE_PREFIX, generate_row, generate_table

__all__ = ["FAMILIES", "FAMILY_NAMES", "SOURCE_PREFIX", "generate_row", "generate_table"]
