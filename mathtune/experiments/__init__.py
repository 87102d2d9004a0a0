"""Tools over DVC's experiments (not a pipeline step): the readable table, the generated
report, and the experiment definitions that queue reruns. Built on `dvc exp show`."""
