"""A grade-school curriculum of problem families in the OpenR1-Math-220k schema.

Each module covers one skill area and maps family names to generators (`registry.py`
gathers them); `rows.py` turns a generated problem into a raw OpenR1 row whose `source`
column is `synthetic/<family>`. Used offline and in tests instead of the hub data set.
"""
