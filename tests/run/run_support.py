"""Helpers of the run tests (on sys.path through tests/run/conftest.py)."""

import numpy as np

from masktrainer.data.preprocessing import Splits


def random_splits(n: int = 250, seed: int = 0) -> Splits:
    """Random MNIST-shaped images with random labels, 150/50/50: for runs whose numbers do
    not matter, only what the trainer records and writes."""
    rng = np.random.RandomState(seed)
    x = rng.rand(n, 28, 28, 1).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.randint(0, 10, n)]
    return Splits(x[:150], y[:150], x[150:200], y[150:200], x[200:], y[200:], 10, "random")
