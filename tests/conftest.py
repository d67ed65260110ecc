"""Shared fixtures. Data beyond the embedded MNIST comes from $MASKTRAINER_DATA_DIR."""

import importlib.util
import io
import os
import sys
import tarfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

# The experiments (benchmarks, cross-checks) are not installed: they run from a checkout. Where
# the library is installed (.ci/run keeps the checkout off sys.path), the checkout goes last, so
# ``experiments`` imports from it while the library under test stays the installed one.
if importlib.util.find_spec("experiments") is None:
    sys.path.append(str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
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


# -- a tiny fake ILSVRC 2012 in the official tarball layout (tfds prepares it from manual_dir) --
IMAGENET_CLASSES = ("n01440764", "n01443537")  # the first two synsets of tfds' label list


def _jpeg(rng, height, width) -> bytes:
    image = rng.randint(0, 256, size=(height, width, 3)).astype(np.uint8)
    return tf.io.encode_jpeg(image).numpy()


def _add(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


@pytest.fixture(scope="session")
def fake_imagenet(tmp_path_factory) -> Path:
    """12 training images of two classes and 4 validation images, as the official tarballs."""
    root = tmp_path_factory.mktemp("imagenet")
    rng = np.random.RandomState(0)
    with tarfile.open(root / "ILSVRC2012_img_train.tar", "w") as train:
        for synset in IMAGENET_CLASSES:
            inner = io.BytesIO()
            with tarfile.open(fileobj=inner, mode="w") as images:
                for i in range(6):
                    _add(images, f"{synset}_{i}.JPEG", _jpeg(rng, 40 + 3 * i, 56 - 2 * i))
            _add(train, f"{synset}.tar", inner.getvalue())
    with tarfile.open(root / "ILSVRC2012_img_val.tar", "w") as val:
        for i in range(1, 5):
            _add(val, f"ILSVRC2012_val_{i:08d}.JPEG", _jpeg(rng, 48, 40))
    return root


# -- memory per test (opt-in): MASKTRAINER_TEST_RSS=FILE appends "<peak MiB> <now MiB> <test
# id>" after each test: the peak finds the tests that raise the suite's high-water mark, the
# current resident size what stays held from one test to the next.
def _resident_mib() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


@pytest.fixture(autouse=True)
def _float32_policy_after_each_test():
    """A test that trains under mixed precision leaves Keras' global policy set (a run sets
    it for its process); the next test starts from the float32 default again."""
    yield
    import keras

    if keras.mixed_precision.global_policy().name != "float32":
        keras.mixed_precision.set_global_policy("float32")


@pytest.fixture(scope="module", autouse=True)
def _fresh_keras_state_per_module():
    """Keras' global state (layer names, the functional API's bookkeeping) and TensorFlow's
    kernel cache are released after each test file, so a long suite does not carry every
    earlier file's along."""
    yield
    import keras

    keras.backend.clear_session()


def pytest_runtest_teardown(item, nextitem):
    path = os.environ.get("MASKTRAINER_TEST_RSS")
    if path:
        import resource

        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{peak_mib:.0f} {_resident_mib():.0f} {item.nodeid}\n")
