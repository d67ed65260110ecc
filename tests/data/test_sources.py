"""Data loading (embedded, files, tfds), checksums, and the original's preprocessing."""

import gzip
import shutil

import numpy as np
import pytest

from masktrainer.data.preprocessing import prepare
from masktrainer.data.sources import (
    RawData,
    load_embedded_mnist,
    load_from_files,
    load_raw,
    sha256_of,
)
from masktrainer.errors import DataError


@pytest.fixture(scope="module")
def mnist_raw():
    return load_embedded_mnist()


def test_embedded_mnist_shapes_and_content(mnist_raw):
    assert mnist_raw.x_train.shape == (60000, 28, 28, 1)
    assert mnist_raw.x_test.shape == (10000, 28, 28, 1)
    assert mnist_raw.x_train.dtype == np.uint8
    assert mnist_raw.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.bincount(mnist_raw.y_test).tolist()[:3] == [980, 1135, 1032]


def test_default_preprocessing_uses_training_split_statistics(mnist_raw):
    s = prepare(mnist_raw)
    assert (len(s.x_train), len(s.x_val), len(s.x_test)) == (55000, 5000, 10000)
    # validation = the first 5000 training images
    np.testing.assert_array_equal(s.y_val.argmax(1), mnist_raw.y_train[:5000])
    assert s.y_train.shape == (55000, 10) and set(np.unique(s.y_train)) == {0.0, 1.0}
    train = mnist_raw.x_train[5000:].astype(np.float64) / 255
    mean = train.mean(axis=0)
    std = np.sqrt(np.mean((train - mean) ** 2))
    expected_test = (mnist_raw.x_test.astype(np.float64) / 255 - mean) / std
    np.testing.assert_allclose(s.x_test, expected_test, atol=1e-5)  # training statistics
    np.testing.assert_allclose(s.x_train.mean(axis=0), 0.0, atol=1e-4)
    assert s.x_train.std() == pytest.approx(1.0, rel=1e-4)


def test_per_set_normalisation_reproduces_the_original_quirk(mnist_raw):
    s = prepare(mnist_raw, normalization="per_set")
    np.testing.assert_allclose(s.x_test.mean(axis=0), 0.0, atol=1e-4)  # own stats
    assert s.x_test.std() == pytest.approx(1.0, rel=1e-4)
    full = np.concatenate([s.x_val, s.x_train])  # stats over all 60k incl. validation
    np.testing.assert_allclose(full.mean(axis=0), 0.0, atol=1e-4)
    assert full.std() == pytest.approx(1.0, rel=1e-4)


def test_input_scale_multiplies_all_splits(mnist_raw):
    a, b = prepare(mnist_raw), prepare(mnist_raw, input_scale=0.5)
    np.testing.assert_allclose(b.x_test, a.x_test * 0.5, rtol=1e-6)
    np.testing.assert_allclose(b.x_val, a.x_val * 0.5, rtol=1e-6)


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
