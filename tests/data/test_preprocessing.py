"""The originals' fixed normalisations: constants, application, defaults per method, errors."""

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
