"""The evaluate step: the base model and each adapter answer seen, held-out and benchmark
problems; every answer is graded by the checker RL trains on, then summarised."""
