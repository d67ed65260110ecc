"""Fixtures of the data tests."""

import pytest

from masktrainer.data.sources import load_embedded_mnist


@pytest.fixture(scope="module")
def mnist_raw():
    """The embedded MNIST, unprocessed (loaded once per test module)."""
    return load_embedded_mnist()
