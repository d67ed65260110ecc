"""Preprocessing: training-split statistics, the original's per-set quirk, the input scale, and
the originals' fixed normalisations (constants, application, defaults per method, errors)."""

import numpy as np
import pytest

from masktrainer.config import ConfigError, RunConfig
from masktrainer.data.preprocessing import (
    FIXED_NORMALIZATIONS,
    fixed_constants,
    prepare,
)
from masktrainer.data.sources import RawData


def _raw(dataset: str, channels: int) -> RawData:
    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, size=(20, 8, 8, channels)).astype(np.uint8)
    labels = rng.randint(0, 10, size=20)
    return RawData(images[:15], labels[:15], images[15:], labels[15:], 10, "test", dataset)


def test_the_constants_are_the_originals():
    assert FIXED_NORMALIZATIONS["hidden_networks"] == {
        "mnist": ((0.1307,), (0.3081,)),
        "cifar10": ((0.491, 0.482, 0.447), (0.247, 0.243, 0.262)),
        "imagenet2012": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    }
    assert FIXED_NORMALIZATIONS["slot_machines"] == {
        "mnist": ((0.0,), (1.0,)),
        "cifar10": ((0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261)),
    }


@pytest.mark.parametrize("mode,dataset,channels", [
    ("hidden_networks", "mnist", 1), ("hidden_networks", "cifar10", 3),
    ("slot_machines", "mnist", 1), ("slot_machines", "cifar10", 3)])
def test_fixed_modes_apply_x_over_255_then_mean_and_std_per_channel(mode, dataset, channels):
    raw = _raw(dataset, channels)
    splits = prepare(raw, validation_size=5, normalization=mode)
    mean, std = fixed_constants(mode, dataset)
    expected = (raw.x_train.astype(np.float32) / np.float32(255) - mean) / std
    np.testing.assert_allclose(np.concatenate([splits.x_val, splits.x_train]), expected,
                               rtol=1e-6, atol=1e-6)
    test = (raw.x_test.astype(np.float32) / np.float32(255) - mean) / std
    np.testing.assert_allclose(splits.x_test, test, rtol=1e-6, atol=1e-6)  # test: same constants
    if mode == "slot_machines" and dataset == "mnist":
        assert splits.x_train.min() >= 0 and splits.x_train.max() <= 1  # ToTensor only


def test_defaults_per_method_and_errors():
    def norm(**kw):
        return RunConfig(**kw).normalization

    assert norm(traintype="EdgePopup") == norm(traintype="SupermaskSampling") == "hidden_networks"
    assert norm(traintype="EdgePopup", nettype="Conv4") == "hidden_networks"
    assert norm(traintype="SlotMachine") == norm(traintype="SlotMachine", nettype="Conv2") \
        == "slot_machines"
    assert norm() == "train_stats" and norm(traintype="LaPerm", nettype="F1") == "scale01"
    assert norm(traintype="EdgePopup", dataset="fashion_mnist") == "train_stats"
    with pytest.raises(ConfigError, match="constants for mnist and cifar10 and imagenet2012 only"):
        RunConfig(traintype="EdgePopup", dataset="fashion_mnist", normalization="hidden_networks")
    with pytest.raises(ValueError, match="constants"):
        fixed_constants("slot_machines", "fashion_mnist")


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
