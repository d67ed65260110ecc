"""Shared fixtures. Data beyond the embedded MNIST comes from $MASKTRAINER_DATA_DIR."""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

# Two logical CPU devices, so tf.distribute tests can mirror across "2 devices".
# Must happen before TensorFlow initialises its devices (i.e. before any op runs).
_cpus = tf.config.list_physical_devices("CPU")
if _cpus:
    try:
        tf.config.set_logical_device_configuration(
            _cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2
        )
    except RuntimeError:  # devices already initialised by an earlier import
        pass


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The folder with mnist/ and cifar10/ (set by .ci/run); skip when absent."""
    value = os.environ.get("MASKTRAINER_DATA_DIR")
    if not value or not Path(value).is_dir():
        pytest.skip("MASKTRAINER_DATA_DIR is not set to the shared data folder")
    return Path(value)


@pytest.fixture(scope="session")
def mnist_splits():
    """Embedded MNIST with the default preprocessing (loaded once per session)."""
    from masktrainer.data.preprocessing import prepare
    from masktrainer.data.sources import load_embedded_mnist

    return prepare(load_embedded_mnist())
