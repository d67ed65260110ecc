"""Data sources: embedded MNIST, files, tfds, checksums and the errors on missing data."""

import gzip
import shutil

import numpy as np
import pytest

from masktrainer.data.preprocessing import prepare
from masktrainer.data.sources import (
    RawData,
    load_from_files,
    load_raw,
    sha256_of,
)
from masktrainer.errors import DataError


def test_embedded_mnist_shapes_and_content(mnist_raw):
    assert mnist_raw.x_train.shape == (60000, 28, 28, 1)
    assert mnist_raw.x_test.shape == (10000, 28, 28, 1)
    assert mnist_raw.x_train.dtype == np.uint8
    assert mnist_raw.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.bincount(mnist_raw.y_test).tolist()[:3] == [980, 1135, 1032]


def _copy_embedded(tmp_path):
    import importlib.resources

    src = importlib.resources.files("masktrainer") / "datasets" / "mnist"
    dst = tmp_path / "mnist"
    dst.mkdir()
    for entry in src.iterdir():
        shutil.copy(str(entry), dst / entry.name)
    return dst


def test_files_source_finds_dataset_subfolder_and_verifies(tmp_path, mnist_raw):
    _copy_embedded(tmp_path)
    raw = load_from_files("mnist", tmp_path)
    np.testing.assert_array_equal(raw.x_test, mnist_raw.x_test)


def test_corrupt_file_gives_clear_error(tmp_path):
    folder = _copy_embedded(tmp_path)
    target = folder / "t10k-labels-idx1-ubyte.gz"
    with gzip.open(target, "rb") as f:
        payload = bytearray(f.read())
    payload[-1] ^= 1
    with gzip.open(target, "wb") as f:
        f.write(bytes(payload))
    with pytest.raises(DataError, match="corrupt or not the original.*--data_dir"):
        load_from_files("mnist", folder)


def test_missing_data_tells_how_to_provide_it(tmp_path):
    with pytest.raises(DataError, match="no cifar10 files.*--data_dir"):
        load_raw("cifar10", data_dir=str(tmp_path))
    with pytest.raises(DataError, match="not shipped.*--manual_dir"):
        load_raw("cifar10")


def test_cifar10_binary_batches(shared_data_dir):
    raw = load_raw("cifar10", data_dir=str(shared_data_dir))
    assert raw.x_train.shape == (50000, 32, 32, 3) and raw.x_test.shape == (10000, 32, 32, 3)
    assert raw.y_train[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    assert np.bincount(raw.y_test).tolist() == [1000] * 10
    s = prepare(raw)
    assert (len(s.x_train), len(s.x_val)) == (45000, 5000)
    assert s.input_shape == (32, 32, 3)


def test_fashion_mnist_files_when_present(shared_data_dir):
    if not (shared_data_dir / "fashion_mnist").is_dir():
        pytest.skip("fashion_mnist is not in the shared data folder yet")
    raw = load_raw("fashion_mnist", data_dir=str(shared_data_dir))
    assert raw.x_train.shape == (60000, 28, 28, 1)


def test_tfds_builds_mnist_offline_from_manual_dir(shared_data_dir, tmp_path, mnist_raw):
    raw = load_raw("mnist", manual_dir=str(shared_data_dir / "mnist"),
                   tfds_data_dir=str(tmp_path / "tfds"))
    assert isinstance(raw, RawData) and raw.source.startswith("tensorflow-datasets")
    assert raw.x_train.shape == (60000, 28, 28, 1)
    # tfds shuffles the order; the label histogram is the publisher's
    np.testing.assert_array_equal(np.bincount(raw.y_train), np.bincount(mnist_raw.y_train))


def test_embedded_files_match_published_checksums():
    import importlib.resources

    from masktrainer.data.sources import SHA256

    folder = importlib.resources.files("masktrainer") / "datasets" / "mnist"
    for name, digest in SHA256["mnist"].items():
        with importlib.resources.as_file(folder / name) as path:
            assert sha256_of(path) == digest


def test_partial_data_folder_names_the_missing_file(tmp_path):
    folder = _copy_embedded(tmp_path)
    (folder / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz missing in"):
        load_from_files("mnist", folder)
